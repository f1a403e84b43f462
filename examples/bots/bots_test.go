package bots

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/internal/testenv"

	"github.com/smartappmock/smartappmock/examples/bots/internal/botcheck"
)

// lockedBuffer collects a bot's stderr for the failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startBot runs argv with the botcheck environment (port 0), waits for its "bot listening on
// URL" line and returns the URL and the bot's stderr; the bot is killed when the test ends.
func startBot(t *testing.T, api *botcheck.FakeAPI, argv ...string) (string, *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), botcheck.Env(api)...)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %q: %v", argv, err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case line := <-lines:
		u, ok := strings.CutPrefix(strings.TrimSpace(line), "bot listening on ")
		if !ok {
			t.Fatalf("%q printed %q first; want bot listening on http://…\nstderr:\n%s", argv, line, stderr)
		}
		return u, stderr
	case <-time.After(30 * time.Second):
		t.Fatalf("%q did not print its address within 30s\nstderr:\n%s", argv, stderr)
	}
	return "", nil
}

func buildGoBot(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gobot")
	if out, err := exec.Command("go", "build", "-o", bin, "./gobot").CombinedOutput(); err != nil {
		t.Fatalf("go build ./gobot: %v\n%s", err, out)
	}
	return bin
}

// TestBots_FailExactlyTheirCases runs every botcheck case against each example bot, started as
// a process with the documented environment: the good bots pass every case, each flawed bot
// fails exactly the case its flaw breaks.
func TestBots_FailExactlyTheirCases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		python bool
		argv   []string
		want   []string // failed cases
	}{
		{"GoCommand", false, nil, nil},
		{"Python", true, []string{"python/bot.py"}, nil},
		{"Flawed_IgnoreSignature", true, []string{"flawed/ignore_signature.py"}, []string{"wrong_signature_ignored"}},
		{"Flawed_Unpad16", true, []string{"flawed/unpad16.py"}, []string{"secure_padding_over_16_replied"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			argv := tc.argv
			if tc.python {
				argv = append([]string{testenv.Require(t, "python3", "apt-get install python3")}, argv...)
			} else {
				argv = []string{buildGoBot(t)}
			}
			api := botcheck.NewFakeAPI(t)
			u, stderr := startBot(t, api, argv...)
			rs := botcheck.Run(t.Context(), u, api)
			if diff := cmp.Diff(tc.want, botcheck.Failed(rs)); diff != "" {
				t.Errorf("failed cases mismatch (-want +got):\n%s\n%s\nbot stderr:\n%s", diff, botcheck.Report(rs), stderr)
			}
		})
	}
}
