package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/mockserver/fault"
	"github.com/smartappmock/smartappmock/store"
)

// liveFixture is a fake behind a real loopback HTTP server, seen by a real net/http client.
type liveFixture struct {
	*fixture
	url string
}

func setupLive(t *testing.T, yamlConfig string) *liveFixture {
	t.Helper()
	f := setupOpts(t, yamlConfig, func(o *mockserver.Options) {
		o.FaultHold = 5 * time.Second // a held request must not outlive the test
	})
	ts := httptest.NewServer(f.srv)
	t.Cleanup(ts.Close)
	return &liveFixture{fixture: f, url: ts.URL}
}

// post sends a text message to openID with a fresh client (no connection reuse) and returns the
// response, its body and the first error met.
func (f *liveFixture) post(timeout time.Duration, token, openID string) (*http.Response, []byte, error) {
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	defer c.CloseIdleConnections()
	resp, err := c.Post(f.url+smartappmock.SendPath+"?access_token="+url.QueryEscape(token),
		"application/x-www-form-urlencoded", strings.NewReader(text(openID, "hi").Encode()))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// nextEntry waits for the next journal entry published after sub was taken.
func nextEntry(t *testing.T, sub <-chan store.Entry) store.Entry {
	t.Helper()
	select {
	case e := <-sub:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no journal entry was recorded")
		return store.Entry{}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isJSONSyntaxError(body []byte) bool {
	var v map[string]any
	var se *json.SyntaxError
	return errors.As(json.Unmarshal(body, &v), &se)
}

// TestFault_SeenByRealClient triggers each fault kind with its magic open_id and checks what a
// net/http client observes and what the journal says.
func TestFault_SeenByRealClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		openID     string
		timeout    time.Duration
		check      func(resp *http.Response, body []byte, err error) string // "" when as expected
		wantStatus int
	}{
		{"fault_http_500", 0, wantStatusPage(500), 500},
		{"fault_http_502", 0, wantStatusPage(502), 502},
		{"fault_http_503", 0, wantStatusPage(503), 503},
		{"fault_http_504", 0, wantStatusPage(504), 504},
		{"fault_reset", 0, func(_ *http.Response, _ []byte, err error) string {
			if !errors.Is(err, syscall.ECONNRESET) {
				return "want a connection reset, got " + errString(err)
			}
			return ""
		}, 0},
		{"fault_empty", 0, func(_ *http.Response, _ []byte, err error) string {
			if !errors.Is(err, io.EOF) {
				return "want EOF, got " + errString(err)
			}
			return ""
		}, 0},
		{"fault_timeout", 50 * time.Millisecond, func(_ *http.Response, _ []byte, err error) string {
			if !isTimeout(err) {
				return "want a client timeout, got " + errString(err)
			}
			return ""
		}, 0},
		{"fault_truncated", 0, func(resp *http.Response, body []byte, err error) string {
			if err != nil || resp.StatusCode != 200 || !isJSONSyntaxError(body) || !strings.HasPrefix(body0(body), `{"errno":`) {
				return "want 200 and half an envelope (a JSON syntax error), got " + errString(err) + " " + string(body)
			}
			return ""
		}, 200},
		{"fault_malformed", 0, func(resp *http.Response, body []byte, err error) string {
			if err != nil || resp.StatusCode != 200 || !isJSONSyntaxError(body) {
				return "want 200 and a JSON syntax error, got " + errString(err) + " " + string(body)
			}
			return ""
		}, 200},
		{"fault_content_type", 0, func(resp *http.Response, body []byte, err error) string {
			if err != nil || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || isJSONSyntaxError(body) {
				return "want a JSON envelope labelled text/html, got " + errString(err) + " " + string(body)
			}
			return ""
		}, 200},
		{"fault_drip", 400 * time.Millisecond, func(resp *http.Response, body []byte, err error) string {
			// The headers come at once (400ms leaves room for a loaded machine); the body, one byte each
			// 100ms, does not make it in time.
			if resp == nil || resp.StatusCode != 200 || !isTimeout(err) {
				return "want a 200 whose body times out, got " + errString(err)
			}
			return ""
		}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.openID, func(t *testing.T) {
			t.Parallel()
			f := setupLive(t, "")
			sub, stop := subscribe(t, f.srv.Core.Store())
			defer stop()
			resp, body, err := f.post(tc.timeout, "static-token-a", tc.openID)
			if msg := tc.check(resp, body, err); msg != "" {
				t.Error(msg)
			}
			e := nextEntry(t, sub)
			if e.OpenID != tc.openID || e.Status != tc.wantStatus || !strings.Contains(e.Fault, strings.TrimPrefix(tc.openID, "fault_")) || !strings.Contains(e.Fault, "magic:"+tc.openID) {
				t.Errorf("journal entry: open_id %q status %d fault %q; want status %d and the fault named", e.OpenID, e.Status, e.Fault, tc.wantStatus)
			}
		})
	}
}

func body0(b []byte) string { return string(b) }

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

func wantStatusPage(status int) func(*http.Response, []byte, error) string {
	return func(resp *http.Response, body []byte, err error) string {
		if err != nil {
			return "want an answer, got " + err.Error()
		}
		if resp.StatusCode != status || resp.Header.Get("Content-Type") != "text/html" || !strings.Contains(string(body), "<h1>"+http.StatusText(status)) && !strings.Contains(string(body), http.StatusText(status)) {
			return "want a gateway page with status " + http.StatusText(status) + ", got " + resp.Status + " " + string(body)
		}
		if resp.Header.Get(fault.Header) == "" {
			return "no " + fault.Header + " header"
		}
		return ""
	}
}

func TestFault_MagicValuesOff_OpenIDIsOrdinary(t *testing.T) {
	t.Parallel()
	f := setup(t, strings.Replace(configtest.Strict, "magic_values: true", "magic_values: false", 1))
	res := f.sendForm("static-token-a", text("fault_reset", "hi"))
	if res.Status != 200 || res.Header.Get(fault.Header) != "" {
		t.Errorf("status %d, fault header %q; want an ordinary answer", res.Status, res.Header.Get(fault.Header))
	}
	if es := f.journal(store.Query{OpenID: "fault_reset"}); len(es) != 1 || es[0].Fault != "" {
		t.Errorf("journal = %+v", es)
	}
}

const faultConfig = configtest.Strict + `
faults:
  - name: two-503s
    match: {open_id: plan-user}
    sequence: [http_503, http_503]
  - name: flaky
    match: {open_id: flaky-user}
    kind: http_502
    probability: 0.3
    seed: 42
  - name: skip-two
    match: {open_id: skip-user}
    kind: http_500
    skip: 2
    times: 1
`

// statuses sends n messages to openID and returns the HTTP statuses.
func (f *fixture) statuses(n int, openID string) []int {
	f.t.Helper()
	var out []int
	for range n {
		req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=static-token-a", strings.NewReader(text(openID, "hi").Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		out = append(out, rec.Code)
	}
	return out
}

func TestFault_Plans(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		tests := []struct {
			name   string
			openID string
			n      int
			want   []int
		}{
			{"NextTwo503_ThenNormal", "plan-user", 4, []int{503, 503, 200, 200}},
			{"SkipTwo_ThenOnce", "skip-user", 4, []int{200, 200, 500, 200}},
			{"Unmatched_Untouched", "user-a", 2, []int{200, 200}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				f := k.setup(t, faultConfig)
				if diff := cmp.Diff(tc.want, f.statuses(tc.n, tc.openID)); diff != "" {
					t.Errorf("statuses mismatch (-want +got):\n%s", diff)
				}
				// The journal keeps each answer's fault as a kind of its own, not only a sentence.
				var want, got []string
				for i, e := range f.journal(store.Query{}) {
					kind := ""
					if st := tc.want[len(tc.want)-1-i]; st != http.StatusOK {
						kind = "http_" + strconv.Itoa(st)
					}
					want, got = append(want, kind), append(got, e.FaultKind)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("journal fault kinds, newest first (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestFault_SeededProbability_ReplaysIdentically(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		first := k.setup(t, faultConfig).statuses(60, "flaky-user")
		second := k.setup(t, faultConfig).statuses(60, "flaky-user")
		if diff := cmp.Diff(first, second); diff != "" {
			t.Errorf("two runs with seed 42 differ (-first +second):\n%s", diff)
		}
		faulted := 0
		for _, s := range first {
			if s == 502 {
				faulted++
			}
		}
		if faulted < 6 || faulted > 30 {
			t.Errorf("%d of 60 sends faulted with probability 0.3; want a share near 18: %v", faulted, first)
		}
		other := k.setup(t, strings.Replace(faultConfig, "seed: 42", "seed: 43", 1)).statuses(60, "flaky-user")
		if cmp.Equal(first, other) {
			t.Errorf("seed 43 replays seed 42 exactly: the seed is ignored")
		}

		// The admin API restarts the sources: the same server replays its run.
		f := k.setup(t, faultConfig)
		run1 := f.statuses(60, "flaky-user")
		if code := f.admin(http.MethodPost, "/__admin/faults/reset", "", nil); code != 200 {
			t.Fatalf("faults/reset: %d", code)
		}
		if diff := cmp.Diff(run1, f.statuses(60, "flaky-user")); diff != "" {
			t.Errorf("after /__admin/faults/reset the run differs (-before +after):\n%s", diff)
		}
		if diff := cmp.Diff(first, run1); diff != "" {
			t.Errorf("the same config on another server differs (-first +run1):\n%s", diff)
		}
		var seen []int
		for _, e := range f.journal(store.Query{OpenID: "flaky-user"}) {
			if e.Fault != "" {
				if e.Fault != "http_502 (flaky)" {
					t.Fatalf("journal fault = %q, want %q", e.Fault, "http_502 (flaky)")
				}
				seen = append(seen, e.Status)
			}
		}
		if len(seen) != 2*faulted {
			t.Errorf("journal has %d faulted entries, want %d", len(seen), 2*faulted)
		}
	})
}

// TestFault_LatencyRange_Seeded runs in a synctest bubble: the latency is measured in fake time,
// exactly, without sleeping.
func TestFault_LatencyRange_Seeded(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		cfgText := configtest.Strict + `
faults:
  - match: {open_id: slow-user}
    latency: 100ms-2s
    seed: 7
`
		measure := func() []time.Duration {
			var out []time.Duration
			synctest.Test(t, func(t *testing.T) {
				cfg, err := config.Parse("latency.yaml", []byte(cfgText))
				if err != nil {
					t.Fatal(err)
				}
				srv, err := newSandbox(mockserver.Options{Config: cfg})
				if err != nil {
					t.Fatal(err)
				}
				for range 5 {
					req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=static-token-a", strings.NewReader(text("slow-user", "hi").Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					rec := httptest.NewRecorder()
					start := time.Now()
					srv.ServeHTTP(rec, req)
					out = append(out, time.Since(start))
					if rec.Code != 200 || rec.Header().Get(fault.Header) != "latency" {
						t.Errorf("answer %d, fault header %q", rec.Code, rec.Header().Get(fault.Header))
					}
				}
				es, _ := srv.Core.Store().Journal(context.Background(), store.Query{OpenID: "slow-user", Limit: 1})
				if len(es) != 1 || !strings.HasPrefix(es[0].Fault, "latency "+out[len(out)-1].String()+" (faults[0])") {
					t.Errorf("journal = %+v, want the last latency %s", es, out[len(out)-1])
				}
			})
			return out
		}
		a, b := measure(), measure()
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("latencies with seed 7 differ between runs (-first +second):\n%s", diff)
		}
		distinct := map[time.Duration]bool{}
		for _, d := range a {
			distinct[d] = true
			if d < 100*time.Millisecond || d > 2*time.Second {
				t.Errorf("latency %s outside 100ms-2s", d)
			}
		}
		if len(distinct) < 3 {
			t.Errorf("latencies %v are not drawn from the range", a)
		}
	})
}

func TestFault_AppFaults_OnlyThatApp(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		cfg := strings.Replace(configtest.Strict, "    foreign_open_ids: [user-of-b]\n", "    foreign_open_ids: [user-of-b]\n    faults:\n      - kind: http_504\n        times: 1\n", 1)
		f := k.setup(t, cfg)
		req := func(token, openID string) int {
			r := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token="+token, strings.NewReader(text(openID, "hi").Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			f.srv.ServeHTTP(rec, r)
			return rec.Code
		}
		got := []int{req("static-token-c", "user-c"), req("static-token-a", "user-a"), req("static-token-a", "user-a")}
		if diff := cmp.Diff([]int{200, 504, 200}, got); diff != "" {
			t.Errorf("statuses mismatch (-want +got):\n%s", diff)
		}
		if es := f.journal(store.Query{App: "1001", Limit: 2}); len(es) != 2 || es[1].Fault != "http_504 (apps[0].faults[0])" {
			t.Errorf("journal = %+v", es)
		}
	})
}

func TestFault_AdminAPI(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		f := k.setup(t, "")
		var errBody admin.ErrorBody
		if code := f.admin(http.MethodPut, "/__admin/faults", `{"faults":[{"kind":"http_418"}]}`, &errBody); code != 400 || !strings.Contains(errBody.Error, `request body:1: faults[0].kind: unknown fault kind "http_418"`) {
			t.Errorf("bad fault: %d %q", code, errBody.Error)
		}
		if code := f.admin(http.MethodPut, "/__admin/faults", `{"faults":[{"name":"down","match":{"open_id":"user-a"},"kind":"http_503","times":1}]}`, nil); code != 200 {
			t.Fatalf("PUT faults: %d", code)
		}
		if diff := cmp.Diff([]int{503, 200}, f.statuses(2, "user-a")); diff != "" {
			t.Errorf("statuses mismatch (-want +got):\n%s", diff)
		}
		var view struct {
			Faults []admin.FaultState `json:"faults"`
		}
		f.admin(http.MethodGet, "/__admin/faults", "", &view)
		if len(view.Faults) != 1 || view.Faults[0].Matched != 2 || view.Faults[0].Injected != 1 || view.Faults[0].Label != "down" {
			t.Errorf("GET faults = %+v", view)
		}
		if code := f.admin(http.MethodPost, "/__admin/reset", "", nil); code != 200 {
			t.Fatal(code)
		}
		// A reset restores the configured state: the plan put through the admin API is gone with it.
		if diff := cmp.Diff([]int{200, 200}, f.statuses(2, "user-a")); diff != "" {
			t.Errorf("after /__admin/reset, statuses mismatch (-want +got):\n%s", diff)
		}
		if code := f.admin(http.MethodPut, "/__admin/faults", `{"faults":[]}`, nil); code != 200 {
			t.Fatal(code)
		}
		if diff := cmp.Diff([]int{200}, f.statuses(1, "user-a")); diff != "" {
			t.Errorf("with no faults, statuses mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestAdminCA(t *testing.T) {
	t.Parallel()
	f := setup(t, "")
	var errBody admin.ErrorBody
	if code := f.admin(http.MethodGet, "/__admin/ca", "", &errBody); code != 404 || !strings.Contains(errBody.Error, "no CA") {
		t.Errorf("without a CA: %d %q", code, errBody.Error)
	}
	pem := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	srv, err := newSandboxAdmin(mockserver.Options{}, admin.Options{CACert: pem})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/__admin/ca", nil))
	if rec.Code != 200 || rec.Body.String() != string(pem) || rec.Header().Get("Content-Type") != "application/x-pem-file" {
		t.Errorf("GET /__admin/ca: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
}

// TestFault_Drip_PacedInFakeTime checks the pace of a drip in a synctest bubble: the whole body
// arrives, in chunks of drip_bytes, drip_interval apart.
func TestFault_Drip_PacedInFakeTime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cfg := configtest.Parse(t, configtest.Strict+`
faults:
  - match: {open_id: user-a}
    kind: drip
    drip_interval: 10ms
    drip_bytes: 8
`)
		srv, err := newSandbox(mockserver.Options{Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=static-token-a", strings.NewReader(text("user-a", "hi").Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		start := time.Now()
		srv.ServeHTTP(rec, req)
		body := rec.Body.String()
		if body != `{"errno":0,"msg":"success"}` || !rec.Flushed {
			t.Errorf("drip delivered %q (flushed %v), want the whole envelope", body, rec.Flushed)
		}
		chunks := (len(body) + 7) / 8
		if got, want := time.Since(start), time.Duration(chunks)*10*time.Millisecond; got != want {
			t.Errorf("drip of %d bytes took %s, want %d chunks of 10ms = %s", len(body), got, chunks, want)
		}
	})
}

// TestReleaseFaults_EndsHeldRequestsAtOnce holds a send in a one-minute latency, releases the
// faults (as a graceful shutdown does), and checks in fake time that the send finished at once with
// its answer, and that the journal says the latency was cut short.
func TestReleaseFaults_EndsHeldRequestsAtOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cfg := configtest.Parse(t, configtest.Strict)
		srv, err := newSandbox(mockserver.Options{Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=static-token-a", strings.NewReader(text("fault_latency_1m", "hi").Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		start := time.Now()
		done := make(chan struct{})
		go func() {
			srv.ServeHTTP(rec, req)
			close(done)
		}()
		synctest.Wait() // the send is held in its latency
		srv.Core.ReleaseFaults()
		<-done
		if d := time.Since(start); d != 0 {
			t.Errorf("the held send ended after %s of fake time, want at once", d)
		}
		es, _ := srv.Core.Store().Journal(context.Background(), store.Query{OpenID: "fault_latency_1m"})
		if len(es) != 1 || es[0].Status != http.StatusOK || !strings.Contains(es[0].Fault, "latency cut short: the server is shutting down") {
			t.Errorf("journal = %+v", es)
		}
		if got, want := rec.Body.String(), `{"errno":90001,"msg":"客服接口下行条数超过上限","data":{}}`; rec.Code != http.StatusOK || got != want {
			t.Errorf("released send answered %d %q, want 200 %q (its decided answer)", rec.Code, got, want)
		}
	})
}
