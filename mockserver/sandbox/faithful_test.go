package sandbox

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// TestWarnings_SandboxLeniencyIsSaid sends what the embedded default accepts and Baidu would not:
// the answer (body unchanged) carries one X-Smartappmock-Warning per leniency, and the journal
// lists them.
func TestWarnings_SandboxLeniencyIsSaid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		token       string
		openID      string
		contentType string
		body        string
		wantOutcome string
		wantKinds   []string
	}{
		{"NullToken_FirstSend", "null", "user-1", "application/x-www-form-urlencoded", "", "business 0",
			[]string{string(mockserver.WarnUnissuedToken), string(mockserver.WarnUnissuedOpenID), string(mockserver.WarnOpenOnFirstSend)}},
		{"MagicOpenID", "null", "errno_90002", "application/x-www-form-urlencoded", "", "business 90002",
			[]string{string(mockserver.WarnUnissuedToken), string(mockserver.WarnMagicValue)}},
		{"MagicToken", "error_code_18", "user-1", "application/x-www-form-urlencoded", "", "gateway 18",
			[]string{string(mockserver.WarnMagicValue)}},
		{"BaiduShapedUnknownToken_NoLeniency", "24.0123456789abcdef0123456789abcdef.2592000.1700000000.282335-1", "user-1", "application/x-www-form-urlencoded", "", "gateway 110",
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setupDefault(t)
			form := url.Values{"user_type": {"1"}, "open_id": {tt.openID}, "msg_type": {"text"}, "content": {"hi"}}
			req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token="+url.QueryEscape(tt.token), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", tt.contentType)
			res := f.do(req)
			if got := res.Header.Get(smartappmock.HeaderOutcome); got != tt.wantOutcome {
				t.Fatalf("outcome %q, want %q (reason %q)", got, tt.wantOutcome, res.Header.Get(smartappmock.HeaderReason))
			}
			es := f.journal(store.Query{Limit: 1})
			var kinds []string
			for _, w := range es[0].Warnings {
				kinds = append(kinds, w.Kind)
			}
			if diff := cmp.Diff(tt.wantKinds, kinds); diff != "" {
				t.Errorf("journal warnings (-want +got):\n%s", diff)
			}
			if got := len(res.Header.Values(smartappmock.HeaderWarning)); got != len(tt.wantKinds) {
				t.Errorf("%d warning headers %q, want %d", got, res.Header.Values(smartappmock.HeaderWarning), len(tt.wantKinds))
			}
		})
	}
}

// setupDefault is setup on the embedded default configuration.
func setupDefault(t *testing.T) *fixture {
	t.Helper()
	clock := newTestClock()
	srv, err := newSandbox(mockserver.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, srv: srv, clock: clock}
}

// TestFaultPhases_BeforeCountsNothing_AfterCountsOnce sends through two HTTP 503 faults (they
// strike before the service) and one truncated answer (after it): the 503s leave the user's five
// replies alone, the truncated answer uses one, and the journal says which phase each was.
func TestFaultPhases_BeforeCountsNothing_AfterCountsOnce(t *testing.T) {
	t.Parallel()
	f := setupOpts(t, "", func(o *mockserver.Options) { o.FaultHold = time.Second })
	if code := f.admin(http.MethodPut, "/__admin/faults", `{"faults":[{"match":{"open_id":"user-a"},"sequence":["http_503","http_503","truncated"]}]}`, nil); code != 200 {
		t.Fatalf("PUT faults: %d", code)
	}
	for range 3 { // through the faults: not checked against openapi.yaml, which has no 503 page
		req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=static-token-a", strings.NewReader(text("user-a", "hi").Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		f.srv.ServeHTTP(httptest.NewRecorder(), req)
	}
	var got []string
	for range 5 {
		got = append(got, f.sendForm("static-token-a", text("user-a", "hi")).Header.Get(smartappmock.HeaderOutcome))
	}
	// 5 replies in the window: the truncated answer used one, so the fifth send here is refused.
	want := []string{"business 0", "business 0", "business 0", "business 0", "business 90001"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after two faults before and one after (-want +got):\n%s", diff)
	}
	es := f.journal(store.Query{OpenID: "user-a"})
	var phases []string
	for i := len(es) - 1; i >= 0; i-- {
		phases = append(phases, es[i].FaultPhase)
	}
	if diff := cmp.Diff([]string{"before", "before", "after", "", "", "", "", ""}, phases); diff != "" {
		t.Errorf("fault phases in the journal, oldest first (-want +got):\n%s", diff)
	}
}

// TestExpiredToken_EntryKeepsItsApp lets an issued token expire on the app's clock: the 111 entry
// is charged to the app, on the app's clock, so ?app= and the app's inbox show it.
func TestExpiredToken_EntryKeepsItsApp(t *testing.T) {
	t.Parallel()
	f := setup(t, "")
	tok := f.token("key-a", "secret-a")
	f.admin(http.MethodPost, "/__admin/apps/1001/clock", `{"advance":"721h"}`, nil)
	res := f.sendForm(tok, text("user-a", "hi"))
	if got := res.Header.Get(smartappmock.HeaderOutcome); got != "gateway 111" {
		t.Fatalf("outcome %q, want gateway 111", got)
	}
	es := f.journal(store.Query{App: "1001", Outcome: "111"})
	if len(es) != 1 {
		t.Fatalf("app 1001's journal holds %d expiries, want 1", len(es))
	}
	if want := f.clock.Now().Add(721 * time.Hour); !es[0].AppTime.Equal(want) {
		t.Errorf("app time %v, want the app's clock %v", es[0].AppTime, want)
	}
}

// TestWarnings_LenientJSON reads a form labelled JSON under lenient_json and says so.
func TestWarnings_LenientJSON(t *testing.T) {
	t.Parallel()
	f := setup(t, strings.Replace(configtest.Strict, "magic_values: true", "magic_values: true\n  lenient_json: true", 1))
	req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=static-token-a", strings.NewReader(text("user-a", "hi").Encode()))
	req.Header.Set("Content-Type", "application/json")
	res := f.do(req)
	if got := res.Header.Get(smartappmock.HeaderOutcome); got != "business 0" {
		t.Fatalf("outcome %q, want business 0", got)
	}
	// user-a wrote (user_messages) but is no user the fake issued (apps[].users): that is said too.
	if diff := cmp.Diff([]string{mockserver.WarnLenientJSON.Message(), mockserver.WarnUnissuedOpenID.Message()}, res.Header.Values(smartappmock.HeaderWarning)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}
