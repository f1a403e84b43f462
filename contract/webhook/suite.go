package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/contract/internal/casename"
	"github.com/smartappmock/smartappmock/contract/internal/procgroup"
	"github.com/smartappmock/smartappmock/contract/report"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/mockservertest"
	"github.com/smartappmock/smartappmock/store"
)

// fakeConfig is the kit's fake: one app, its fixed access token, and the window rule of the real
// service (a reply needs a user message; 5 replies in 48 hours).
const fakeConfig = `version: 1
policy:
  apps: configured
  tokens: issued
  window: {mode: require_user_message, duration: 48h, max_replies: 5}
  magic_values: false
apps:
  - id: ` + AppID + `
    client_id: ` + ClientID + `
    client_secret: webhook-kit-client-secret
    tokens: ["` + AccessToken + `"]
`

// Suite runs the webhook cases. Its zero value runs every case.
type Suite struct {
	// Cases are the names of the cases to run (empty: all, see Cases).
	Cases []string
	// Output receives the bot command's stdout and stderr (nil: discarded; the last lines are
	// kept for the error when the bot does not start).
	Output io.Writer
	// StartTimeout is how long a bot command may take to accept connections (default 30 s).
	StartTimeout time.Duration
	// Progress, when set, is told of each case as it finishes (report.ProgressLine words it).
	Progress report.Progress
	// Platform runs the third-party platform's cases (PlatformCases) instead of the mini
	// program's: the bot is a platform's receiver of tickets and authorization events.
	Platform bool
}

// selectCases returns the cases of the suite's catalogue named in s.Cases (all when empty).
func (s Suite) selectCases() ([]Case, error) {
	if s.Platform {
		return casename.Select(PlatformCases(), func(c Case) string { return c.Name }, "webhook platform case", s.Cases)
	}
	return selectCases(s.Cases)
}

// startFake starts the kit's fake; its platform pushes to botURL + PlatformPath.
func startFake(botURL string) (*mockservertest.Server, error) {
	cfg, err := config.Parse("webhook-kit.yaml", []byte(fakeConfig+platformConfig(botURL)))
	if err != nil {
		return nil, err
	}
	return mockservertest.Start(mockservertest.Options{Server: mockserver.Options{Config: cfg}})
}

func (s Suite) env(fake *mockservertest.Server, port int) Env {
	return Env{Port: port, Token: Token, AESKey: AESKey, ClientID: ClientID, BaseURL: fake.URL, AccessToken: AccessToken,
		PlatformKey: PlatformKey, PlatformToken: PlatformToken, PlatformAESKey: PlatformAESKey}
}

// RunHandler runs the cases against the bot that newBot builds from the kit's Env (Port is 0:
// the kit serves the handler on a loopback port of its own).
func (s Suite) RunHandler(ctx context.Context, newBot func(Env) http.Handler) (*report.Report, error) {
	cases, err := s.selectCases()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	fake, err := startFake("http://" + ln.Addr().String() + "/")
	if err != nil {
		ln.Close()
		return nil, err
	}
	defer fake.Close()
	bot := httptest.NewUnstartedServer(newBot(s.env(fake, 0)))
	bot.Listener.Close()
	bot.Listener = ln
	bot.Start()
	defer bot.Close()
	start := time.Now()
	rep := &report.Report{Title: "webhook handler"}
	runCases(ctx, &kit{fake: fake, botURL: bot.URL + "/"}, cases, rep, s.Progress)
	addWarnings(ctx, rep, fake)
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// addWarnings counts in rep the warnings the kit's fake gave the bot's replies, by kind: answers
// Baidu would not have given (the kit's fake is strict, so only lenient_json can appear).
func addWarnings(ctx context.Context, rep *report.Report, fake *mockservertest.Server) {
	entries, err := fake.Fake.Store().Journal(ctx, store.Query{})
	if err != nil {
		return // the cases that needed the journal have said so
	}
	for i := len(entries) - 1; i >= 0; i-- { // oldest first
		for _, w := range entries[i].Warnings {
			rep.AddWarning(w.Kind, w.Message)
		}
	}
}

// tail keeps the last bytes a command wrote.
type tail struct {
	mu sync.Mutex
	b  []byte
	w  io.Writer
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	t.mu.Unlock()
	if t.w != nil {
		_, _ = t.w.Write(p)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// RunCommand starts the bot command argv with the kit's Env in its environment (and the
// process's own), waits until it accepts connections on 127.0.0.1:SMARTAPPMOCK_BOT_PORT, runs the
// cases against it and stops it (its whole process group on Unix).
func (s Suite) RunCommand(ctx context.Context, argv []string) (*report.Report, error) {
	if len(argv) == 0 {
		return nil, errors.New("webhook: no bot command")
	}
	cases, err := s.selectCases()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	fake, err := startFake("http://127.0.0.1:" + strconv.Itoa(port) + "/")
	if err != nil {
		return nil, err
	}
	defer fake.Close()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), s.env(fake, port).Environ()...)
	out := &tail{w: s.Output}
	cmd.Stdout, cmd.Stderr = out, out
	procgroup.Set(cmd)
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("webhook: starting the bot %q: %w", argv, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cancel()
		<-exited
	}()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	wait := s.StartTimeout
	if wait <= 0 {
		wait = 30 * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			exited <- err // for the deferred wait
			return nil, fmt.Errorf("webhook: the bot %q exited before it listened on %s (%v); its output:\n%s", argv, addr, err, out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("webhook: the bot %q did not listen on %s (SMARTAPPMOCK_BOT_PORT) within %s; its output:\n%s", argv, addr, wait, out)
		}
	}
	start := time.Now()
	rep := &report.Report{Title: strings.Join(argv, " ")}
	runCases(ctx, &kit{fake: fake, botURL: "http://" + addr + "/"}, cases, rep, s.Progress)
	addWarnings(ctx, rep, fake)
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// Run runs every case against the bot that newBot builds, inside a Go test: the test fails for
// each failed must-case and logs the report.
func Run(t *testing.T, newBot func(Env) http.Handler) *report.Report {
	t.Helper()
	rep, err := Suite{}.RunHandler(context.Background(), newBot)
	if err != nil {
		t.Fatalf("webhook: %v", err)
	}
	var b strings.Builder
	_ = rep.WriteText(&b)
	t.Log(b.String())
	for _, r := range rep.Results {
		if r.Status == report.StatusFail && r.Grade == report.GradeMust {
			t.Errorf("webhook case %s failed: %s", r.Case, r.Details)
		}
	}
	return rep
}
