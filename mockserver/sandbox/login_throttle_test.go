package sandbox

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
)

// lockedBuffer is a log destination safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// throttleFake is a sandbox with an admin token, metrics, a log kept for the test and a clock the
// test moves (the throttle reads the server clock).
type throttleFake struct {
	t     *testing.T
	srv   *testSandbox
	clock *testClock
	log   *lockedBuffer
}

func newThrottleFake(t *testing.T) *throttleFake {
	t.Helper()
	f := &throttleFake{t: t, clock: newTestClock(), log: &lockedBuffer{}}
	var err error
	var srv *testSandbox
	srv, err = newSandboxAdmin(mockserver.Options{Config: configtest.Parse(t, configtest.Strict), Now: f.clock.Now,
		Logger: slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelWarn}))},
		admin.Options{Token: "s3cret-admin-token", LoginFailed: func(lf admin.LoginFailure) { srv.metrics.AdminLoginFailed(lf.Via, lf.Throttled) }})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	return f
}

// attempt tries a token from a client address by one of the three routes and returns the status.
func (f *throttleFake) attempt(via, remote, token string) *httptest.ResponseRecorder {
	f.t.Helper()
	var req *http.Request
	switch via {
	case admin.ViaBearer:
		req = httptest.NewRequest(http.MethodGet, "/__admin/requests", nil)
		req.Header.Set("Authorization", "Bearer "+token)
	case admin.ViaLoginForm:
		req = httptest.NewRequest(http.MethodPost, admin.LoginPath, strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case admin.ViaPageToken:
		req = httptest.NewRequest(http.MethodGet, admin.UIPath+"?token="+url.QueryEscape(token), nil)
	}
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

func (f *throttleFake) metric(via, kind string) string {
	f.t.Helper()
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	prefix := `smartappmock_admin_login_failures_total{kind="` + kind + `",via="` + via + `"} `
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return v
		}
	}
	f.t.Fatalf("no %s in /metrics:\n%s", prefix, rec.Body)
	return ""
}

// TestAdminLogin_WrongTokensSlowedLoggedCounted: on each route, three wrong tokens cost nothing,
// the fourth makes the address wait 1 s (the next attempt, even with the right token, answers 429
// unchecked), the fifth 2 s; every wrong token is a WARN line without the token and a count in
// /metrics; once the wait is over the right token works and clears the count. Time is the test's
// clock: nothing sleeps.
func TestAdminLogin_WrongTokensSlowedLoggedCounted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		via          string
		wrong, right int // the statuses of a wrong and a right token
	}{
		{admin.ViaBearer, http.StatusUnauthorized, http.StatusOK},
		{admin.ViaLoginForm, http.StatusUnauthorized, http.StatusSeeOther},
		{admin.ViaPageToken, http.StatusSeeOther, http.StatusSeeOther},
	} {
		t.Run(tc.via, func(t *testing.T) {
			t.Parallel()
			f := newThrottleFake(t)
			const me, other = "192.0.2.7:40000", "198.51.100.9:40000"
			var got []int
			for range 4 {
				got = append(got, f.attempt(tc.via, me, "guess-1234").Code)
			}
			throttled := f.attempt(tc.via, me, "s3cret-admin-token") // the right token, unchecked
			got = append(got, throttled.Code)
			if diff := cmp.Diff([]int{tc.wrong, tc.wrong, tc.wrong, tc.wrong, http.StatusTooManyRequests}, got); diff != "" {
				t.Fatalf("statuses mismatch (-want +got):\n%s", diff)
			}
			if ra := throttled.Header().Get("Retry-After"); ra != "1" {
				t.Errorf("Retry-After = %q, want 1", ra)
			}
			if !strings.Contains(throttled.Body.String(), "too many wrong admin tokens from this address: try again in 1s") {
				t.Errorf("the 429 does not say why: %s", throttled.Body)
			}
			// Another address is not slowed by this one's failures.
			if code := f.attempt(tc.via, other, "s3cret-admin-token").Code; code != tc.right {
				t.Errorf("another address with the right token: %d, want %d", code, tc.right)
			}
			f.clock.Advance(time.Second)
			if code := f.attempt(tc.via, me, "guess-5678").Code; code != tc.wrong {
				t.Errorf("a wrong token after the wait: %d, want %d", code, tc.wrong)
			}
			f.clock.Advance(1999 * time.Millisecond) // the fifth failure: 2 s
			if code := f.attempt(tc.via, me, "s3cret-admin-token").Code; code != http.StatusTooManyRequests {
				t.Errorf("the right token 1.999 s after the fifth failure: %d, want 429", code)
			}
			f.clock.Advance(time.Millisecond)
			if code := f.attempt(tc.via, me, "s3cret-admin-token").Code; code != tc.right {
				t.Errorf("the right token after the wait: %d, want %d", code, tc.right)
			}
			// The right token cleared the address: three wrong ones are free again.
			for i := range 3 {
				if code := f.attempt(tc.via, me, "guess-9").Code; code != tc.wrong {
					t.Errorf("wrong token %d after a success: %d, want %d", i+1, code, tc.wrong)
				}
			}

			log := f.log.String()
			if n := strings.Count(log, `msg="admin API: wrong admin token"`); n != 8 {
				t.Errorf("%d log lines for 8 wrong tokens:\n%s", n, log)
			}
			for _, secret := range []string{"guess-1234", "guess-5678", "guess-9", "s3cret-admin-token"} {
				if strings.Contains(log, secret) {
					t.Errorf("the log shows %q:\n%s", secret, log)
				}
			}
			for _, want := range []string{"client=192.0.2.7 via=" + tc.via, "failures=4 next_attempt_in=1s", "failures=5 next_attempt_in=2s"} {
				if !strings.Contains(log, want) {
					t.Errorf("the log lacks %q:\n%s", want, log)
				}
			}
			if diff := cmp.Diff([]string{"8", "2"}, []string{f.metric(tc.via, "wrong"), f.metric(tc.via, "throttled")}); diff != "" {
				t.Errorf("metric (wrong, throttled) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAdminLogin_ThrottledLoginFormSaysWhy: the inbox's form answers 429 with the form again and
// the reason, not a JSON error.
func TestAdminLogin_ThrottledLoginFormSaysWhy(t *testing.T) {
	t.Parallel()
	f := newThrottleFake(t)
	for range 4 {
		f.attempt(admin.ViaLoginForm, "192.0.2.7:1", "nope")
	}
	rec := f.attempt(admin.ViaLoginForm, "192.0.2.7:1", "nope")
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Header().Get("Content-Type"), "text/html") ||
		!strings.Contains(string(body), `<p class="error" role="alert">admin API: too many wrong admin tokens from this address: try again in 1s</p>`) ||
		!strings.Contains(string(body), `<form method="post" action="/__admin/ui/login">`) {
		t.Errorf("throttled login form: %d %s\n%s", rec.Code, rec.Header(), body)
	}
}

// TestAdminLogin_NoTokenIsNoAttempt: a request without a token (a page load, a script that forgot
// it) gets 401 as before; it is neither logged nor counted nor slowed.
func TestAdminLogin_NoTokenIsNoAttempt(t *testing.T) {
	t.Parallel()
	f := newThrottleFake(t)
	for range 10 {
		req := httptest.NewRequest(http.MethodGet, "/__admin/requests", nil)
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("no token: %d, want 401", rec.Code)
		}
	}
	if f.log.String() != "" || f.metric(admin.ViaBearer, "wrong") != "0" {
		t.Errorf("requests without a token were counted: %s %s", f.log, f.metric(admin.ViaBearer, "wrong"))
	}
}
