package bots

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/contract/webhook"
	"github.com/smartappmock/smartappmock/internal/testenv"
)

// lockedBuilder collects a bot's output, which the command's copying goroutine writes.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// buildGoBot builds ./gobot into a temporary directory.
func buildGoBot(t *testing.T) string {
	t.Helper()
	testenv.SkipIfShort(t, "builds ./gobot with go build")
	bin := filepath.Join(t.TempDir(), "gobot")
	if out, err := exec.Command("go", "build", "-o", bin, "./gobot").CombinedOutput(); err != nil {
		t.Fatalf("go build ./gobot: %v\n%s", err, out)
	}
	return bin
}

// TestBots_FailExactlyTheirCases runs the webhook contract kit (contract/webhook) against each
// example bot, started as a command with the kit's environment: the good bots pass every case,
// each flawed bot fails exactly the case its flaw breaks.
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
			var out lockedBuilder
			rep, err := webhook.Suite{Output: &out}.RunCommand(context.Background(), argv)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, rep.Failed("")); diff != "" {
				var b strings.Builder
				_ = rep.WriteText(&b)
				t.Errorf("failed cases mismatch (-want +got):\n%s\n%s\nbot output:\n%s", diff, b.String(), out.String())
			}
		})
	}
}
