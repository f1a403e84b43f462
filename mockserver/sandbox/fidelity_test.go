package sandbox

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// Fidelity to Baidu, end to end on the sandbox (docs/fidelity.md): the profiles, the warnings
// that name each leniency of the sandbox, fault phases, and the journal at an app's clock.

// setupProfile builds a fake from the embedded default, switched to profile p.
func setupProfile(t *testing.T, p config.Profile) *fixture {
	t.Helper()
	cfg := config.Default()
	if err := cfg.SetProfile(p); err != nil {
		t.Fatal(err)
	}
	clock := newTestClock()
	srv, err := newSandbox(mockserver.Options{Config: cfg, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, srv: srv, clock: clock}
}

// warningsOf returns the warning header values of an answer.
func warningsOf(r response) []string { return r.Header.Values(smartappmock.HeaderWarning) }

// TestFidelity_NullTokenByProfile: access_token=null answers errno 0 on the embedded default (with the
// warning that Baidu answers 110), and 110 under --profile baidu.
func TestFidelity_NullTokenByProfile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		profile     config.Profile
		want        outcome
		wantWarning string
	}{
		{"NullToken_Sandbox_SendsWithWarning", config.ProfileSandbox, outcome{smartappmock.LayerBusiness, 0, "success"}, mockserver.WarnUnissuedToken.Message()},
		{"NullToken_Baidu_110", config.ProfileBaidu, outcome{smartappmock.LayerGateway, 110, "Access token invalid or no longer valid"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setupProfile(t, tt.profile)
			res := f.sendForm("null", text("user-1", "hi"))
			if got := res.outcome(t); got != tt.want {
				t.Errorf("outcome %+v, want %+v", got, tt.want)
			}
			if got := strings.Join(warningsOf(res), "|"); !strings.Contains(got, tt.wantWarning) || (tt.wantWarning == "" && got != "") {
				t.Errorf("warnings %q, want %q", got, tt.wantWarning)
			}
		})
	}
}

// TestFidelity_FormLabelledJSON: on the embedded default a urlencoded body labelled JSON is read,
// with the lenient_json warning; a real JSON body still answers 3001 with the reason.
func TestFidelity_FormLabelledJSON(t *testing.T) {
	t.Parallel()
	f := setupProfile(t, config.ProfileSandbox)
	token := f.token("my-app-key", "my-app-secret")
	post := func(target, body string) response {
		req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return f.do(req)
	}
	form := text("user-1", "hi")
	form.Set("access_token", token)
	labelled := post(smartappmock.SendPath, form.Encode())
	if got := labelled.outcome(t); got.Code != 0 {
		t.Errorf("form labelled JSON: %+v, want errno 0 (lenient_json is on in the embedded default)", got)
	}
	real := post(smartappmock.SendPath+"?access_token="+url.QueryEscape(token), `{"user_type":1,"open_id":"user-1","msg_type":"text","content":"hi"}`)
	if got := real.outcome(t); got.Code != 3001 {
		t.Errorf("JSON body: %+v, want errno 3001", got)
	}
	if reason := real.Header.Get(smartappmock.HeaderReason); reason == "" {
		t.Error("JSON body: no reason header")
	}
	if got := warningsOf(labelled); !strings.Contains(strings.Join(got, "|"), mockserver.WarnLenientJSON.Message()) {
		t.Errorf("form labelled JSON: warnings %q, want the lenient_json one", got)
	}
}

// TestFidelity_FaultPhases: two http_503 faults in a fresh window leave its 5 replies; an
// after-phase fault uses one.
func TestFidelity_FaultPhases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     string
		wantLeft  int
		wantPhase string
	}{
		{"TwoHTTP503_Before_LeaveFive", "  - {kind: http_503, times: 2}\n", 5, config.FaultPhaseBefore},
		{"TwoTruncated_After_UseTwo", "  - {kind: truncated, times: 2}\n", 3, config.FaultPhaseAfter},
		{"TwoHTTP502SetAfter_UseTwo", "  - {kind: http_502, phase: after, times: 2}\n", 3, config.FaultPhaseAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, configtest.Strict+"faults:\n"+tt.fault)
			f.statuses(2, "user-a")
			es := f.journal(store.Query{App: "1001", OpenID: "user-a"})
			if len(es) != 2 {
				t.Fatalf("%d journal entries for the two faulted sends; want 2", len(es))
			}
			for _, e := range es {
				if e.FaultPhase != tt.wantPhase {
					t.Errorf("entry %s: fault_phase %q, want %q", e.ID, e.FaultPhase, tt.wantPhase)
				}
			}
			var left []string
			for range 6 {
				left = append(left, url.QueryEscape(f.sendForm("static-token-a", text("user-a", "after")).Header.Get(smartappmock.HeaderOutcome)))
			}
			ok := 0
			for _, o := range left {
				if o == url.QueryEscape("business 0") {
					ok++
				}
			}
			if ok != tt.wantLeft {
				t.Errorf("%d replies left after the faults (%v), want %d", ok, left, tt.wantLeft)
			}
		})
	}
}

// TestFidelity_ExpiredTokenKeepsItsApp: the 111 entry is listed under its app, at the app's clock.
func TestFidelity_ExpiredTokenKeepsItsApp(t *testing.T) {
	t.Parallel()
	f := setup(t, "")
	token := f.token("key-a", "secret-a")
	if st := f.admin(http.MethodPost, "/__admin/apps/1001/clock", `{"advance":"721h"}`, nil); st != http.StatusOK {
		t.Fatalf("advance: %d", st)
	}
	if got := f.sendForm(token, text("user-a", "late")).outcome(t); got.Code != 111 {
		t.Fatalf("outcome %+v, want 111", got)
	}
	es := f.journal(store.Query{App: "1001", Outcome: "111"})
	if len(es) != 1 {
		t.Fatalf("%d entries with outcome 111 under app 1001; want 1", len(es))
	}
	if want := f.clock.Now().Add(721 * 3600e9); !es[0].AppTime.Equal(want) {
		t.Errorf("app_time %s, want the app's clock %s", es[0].AppTime, want)
	}
}

// TestFidelity_TokenForUnconfiguredClient_Warns: the sandbox gives any client_id a token, and says
// that Baidu would refuse it; a configured client gets none.
func TestFidelity_TokenForUnconfiguredClient_Warns(t *testing.T) {
	t.Parallel()
	f := setupProfile(t, config.ProfileSandbox)
	get := func(client, secret string) response {
		q := url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {secret}}
		return f.do(httptest.NewRequest(http.MethodGet, smartappmock.TokenPath+"?"+q.Encode(), nil))
	}
	tests := []struct {
		name, client, secret string
		want                 []string
	}{
		{"SandboxClient_Warned", "my-app-key", "my-app-secret", []string{mockserver.WarnUnconfiguredClient.Message()}},
		{"ConfiguredClient_NoWarning", "demo-client-id", "demo-client-secret", nil},
	}
	for _, tt := range tests {
		res := get(tt.client, tt.secret)
		if res.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", tt.name, res.Status, res.Body)
		}
		if got := warningsOf(res); strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: warnings %q, want %q", tt.name, got, tt.want)
		}
	}
	es := f.journal(store.Query{App: "my-app-key"})
	if len(es) != 1 || len(es[0].Warnings) != 1 || es[0].Warnings[0].Kind != string(mockserver.WarnUnconfiguredClient) {
		t.Errorf("journal of my-app-key: %+v", es)
	}
}
