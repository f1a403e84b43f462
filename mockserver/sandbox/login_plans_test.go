package sandbox

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
)

// loginPlansConfig is loginConfig with a fault plan that picks app 1001's first call, a gateway
// rule for one open_id, and a daily limit of one request for app 1003.
const loginPlansConfig = loginConfig + `
faults:
  - name: login-down
    match: {app: "1001"}
    kind: http_503
    times: 1
rules:
  - name: busy-for-rule-user
    match: {open_id: rule-user}
    answer: {error_code: 18}
`

// TestLogin_FaultPlansAndRules: the login endpoints go through the send's decision: a fault plan
// of the configuration picks a v1 login of its app (before the service: the code is not used, the
// next exchange of it logs in), a gateway rule answers a UnionID lookup of its open_id, and the
// per-endpoint limits, which Baidu does not document for logins, do not count them.
func TestLogin_FaultPlansAndRules(t *testing.T) {
	t.Parallel()
	yaml := strings.Replace(loginPlansConfig, "tokens: [static-token-c]", "tokens: [static-token-c]\n    limits: {daily: 1}", 1)
	f := setup(t, yaml)
	l := f.createUser("1001", `{"account":"ivy"}`)
	v1 := func(code, key, sk string) *http.Request {
		return sdkRequest("go", http.MethodGet, smartappmock.JSCode2SessionKeyPath, url.Values{"code": {code}, "client_id": {key}, "sk": {sk}}, "", "")
	}

	// The fault plan picks the first login of app 1001 (a faulted answer breaks the contract on
	// purpose: served without the fixture's check).
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, v1(l.Code, "key-a", "secret-a"))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("login picked by the fault plan: HTTP %d %s, want 503", rec.Code, rec.Body)
	}
	es := f.journal(store.Query{App: "1001", Endpoint: "login_v1", Limit: 1})
	if len(es) != 1 || es[0].FaultKind != "http_503" || es[0].FaultPhase != config.FaultPhaseBefore ||
		!strings.Contains(es[0].Fault, "login-down") || es[0].Status != http.StatusServiceUnavailable {
		t.Fatalf("journal of the faulted login: %+v", es)
	}
	// Struck before the service: the code was not used, and the plan's one fault is spent.
	res := f.do(v1(l.Code, "key-a", "secret-a"))
	if m := decodeJSON(t, res.Body); m["openid"] != l.User.OpenID {
		t.Fatalf("login after the fault: %s (reason %q)", res.Body, res.Header.Get(smartappmock.HeaderReason))
	}

	// The gateway rule answers a UnionID lookup of its open_id, in the gateway's envelope.
	res = f.do(sdkRequest("go", http.MethodPost, smartappmock.UnionIDPath, url.Values{"access_token": {"static-token-b"}}, "application/x-www-form-urlencoded", "openid=rule-user"))
	if m := decodeJSON(t, res.Body); m["error_code"] != float64(18) || res.Header.Get(smartappmock.HeaderOutcome) != "gateway 18" {
		t.Fatalf("UnionID lookup matched by the rule: %s (outcome %q)", res.Body, res.Header.Get(smartappmock.HeaderOutcome))
	}
	if es := f.journal(store.Query{App: "1002", Endpoint: "unionid", Limit: 1}); len(es) != 1 || es[0].Rule != "busy-for-rule-user" {
		t.Fatalf("journal of the rule's answer: %+v", es)
	}

	// App 1003's daily limit of one request does not count its logins.
	for i := range 2 {
		u := f.createUser("1003", `{}`)
		res := f.do(v1(u.Code, "key-c", "secret-c"))
		if m := decodeJSON(t, res.Body); m["openid"] != u.User.OpenID {
			t.Fatalf("login %d of app 1003 under its daily limit: %s", i+1, res.Body)
		}
	}
}
