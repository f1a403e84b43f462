package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runServe runs the program with args and env, waits for the first n lines it prints on stdout,
// and returns them, its stderr and a function that stops it and returns run's error (also called on
// cleanup).
func runServe(t *testing.T, n int, env map[string]string, args []string) ([]string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(k string) string { return env[k] }, pw, stderr)
		pw.Close()
	}()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	var out []string
	for len(out) < n {
		select {
		case l := <-lines:
			out = append(out, l)
		case err := <-done:
			cancel()
			t.Fatalf("serve exited early: %v\n%s", err, stderr)
		case <-time.After(10 * time.Second):
			cancel()
			t.Fatalf("serve printed %q, want %d lines", out, n)
		}
	}
	var (
		once    sync.Once
		stopErr error
	)
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(15 * time.Second):
				t.Error("serve did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return out, stderr, stop
}

// startServe runs the program with args and env, and returns the base URL it printed, its stderr
// and a function that stops it.
func startServe(t *testing.T, args []string, env map[string]string) (string, *syncBuffer, func() error) {
	t.Helper()
	lines, stderr, stop := runServe(t, 1, env, args)
	return findAddr(t, lines, `listening on (http://\S+)`), stderr, stop
}

func TestServe_EmbeddedDefault_SendsAndShutsDown(t *testing.T) {
	base, stderr, stop := startServe(t, []string{"--addr", "127.0.0.1:0", "--log-format", "json"}, nil)
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {"any"}, "client_secret": {"thing"}}
	resp, err := http.Get(base + smartappmock.TokenPath + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"expires_in":2592000`) {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Post(base+smartappmock.SendPath+"?access_token=error_code_110", "application/x-www-form-urlencoded", strings.NewReader("open_id=u"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"error_code":110,"error_msg":"Access token invalid or no longer valid"}` {
		t.Errorf("magic token: %s", body)
	}
	if err := stop(); err != nil {
		t.Errorf("serve returned %v", err)
	}
	if !strings.Contains(stderr.String(), `"msg":"request"`) || !strings.Contains(stderr.String(), `"outcome":"gateway 110"`) {
		t.Errorf("no JSON request log line:\n%s", stderr)
	}
}

func TestServe_EnvironmentAndAdminToken(t *testing.T) {
	base, _, stop := startServe(t, nil, map[string]string{"SMARTAPPMOCK_ADDR": "127.0.0.1:0", "SMARTAPPMOCK_ADMIN_TOKEN": "tk"})
	defer stop()
	tests := []struct {
		auth string
		want int
	}{{"", 401}, {"Bearer tk", 200}}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, base+"/__admin/requests", nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("auth %q: %d, want %d", tt.auth, resp.StatusCode, tt.want)
		}
	}
	var out bytes.Buffer
	addr := strings.TrimPrefix(base, "http://")
	if err := run(context.Background(), []string{"healthcheck", "--addr", addr}, func(string) string { return "" }, &out, io.Discard); err != nil || out.String() != "healthy\n" {
		t.Errorf("healthcheck: %v %q", err, out.String())
	}
}

func TestServe_UsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--log-format", "xml"}, `--log-format: "xml" is not text or json`},
		{[]string{"serve", "extra"}, `unexpected argument "extra"`},
		{[]string{"--nope"}, "serve: unknown flag --nope (run 'smartappmock serve -h' for the flags)"},
	}
	for _, tt := range tests {
		err := run(context.Background(), tt.args, func(string) string { return "" }, io.Discard, io.Discard)
		var ue usageError
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errorAs(err, &ue) {
			t.Errorf("%v: error %v, want usage error with %q", tt.args, err, tt.want)
		}
	}
}

func errorAs(err error, target *usageError) bool {
	u, ok := err.(usageError)
	if ok {
		*target = u
	}
	return ok
}

// TestServe_LeniencyVisibleAtWarn: with --log-level warn, a send with a made-up token logs one WARN
// line per leniency it relied on (once per app and kind), and shutdown logs the summary.
func TestServe_LeniencyVisibleAtWarn(t *testing.T) {
	t.Parallel()
	base, stderr, stop := startServe(t, []string{"--addr", "127.0.0.1:0", "--log-level", "warn"}, nil)
	for _, user := range []string{"u1", "u2", "u3"} {
		resp, err := http.Post(base+smartappmock.SendPath+"?access_token=made-up-token", "application/x-www-form-urlencoded",
			strings.NewReader("user_type=1&msg_type=text&content=hi&open_id="+user))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != `{"errno":0,"msg":"success"}` {
			t.Fatalf("send: %s", body)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("serve returned %v", err)
	}
	log := stderr.String()
	for _, want := range []string{
		`level=WARN msg="an answer Baidu would not give: access_token: not issued by this fake; Baidu answers 110"`,
		`kind=unissued_token`, `fix="policy.tokens: issued (or --profile baidu)"`,
		`kind=open_on_first_send`,
		`level=WARN msg="3 answers succeeded only because the sandbox is lenient; warnings by kind: open_on_first_send 3`,
		`--profile baidu makes them fail as Baidu would`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if n := strings.Count(log, "kind=unissued_token"); n != 1 {
		t.Errorf("unissued_token logged %d times, want once per app:\n%s", n, log)
	}
	if strings.Contains(log, "level=INFO") {
		t.Errorf("an INFO line at --log-level warn:\n%s", log)
	}
}
