package sandbox

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/store"
)

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	t.Run("Health", func(t *testing.T) {
		t.Parallel()
		f := setup(t, "")
		var got map[string]any
		if code := f.admin(http.MethodGet, "/__admin/health", "", &got); code != 200 || got["status"] != "ok" {
			t.Errorf("health: %d %v", code, got)
		}
	})
	t.Run("HealthDegraded_WhileHookFails_StillHTTP200", func(t *testing.T) {
		t.Parallel()
		var unwell error = errors.New("journal file: no space left on device")
		srv, err := newSandboxAdmin(mockserver.Options{}, admin.Options{Health: func() error { return unwell }})
		if err != nil {
			t.Fatal(err)
		}
		health := func() (int, admin.Health) {
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/__admin/health", nil))
			var h admin.Health
			if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil {
				t.Fatalf("health: %v: %s", err, rec.Body)
			}
			return rec.Code, admin.Health{Status: h.Status, Reason: h.Reason}
		}
		code, got := health()
		if diff := cmp.Diff(admin.Health{Status: "degraded", Reason: unwell.Error()}, got); code != 200 || diff != "" {
			t.Errorf("health while the hook fails: HTTP %d, (-want +got):\n%s", code, diff)
		}
		unwell = nil
		if code, got := health(); code != 200 || got != (admin.Health{Status: "ok"}) {
			t.Errorf("health once the hook is well again: HTTP %d, %+v", code, got)
		}
	})
	t.Run("ConfigHidesSecrets", func(t *testing.T) {
		t.Parallel()
		f := setup(t, "")
		res := f.do(httptest.NewRequest(http.MethodGet, "/__admin/config", nil))
		if res.Status != 200 || strings.Contains(string(res.Body), "secret-a") || strings.Contains(string(res.Body), "static-token-a") {
			t.Errorf("config: %d %s", res.Status, res.Body)
		}
		if !strings.Contains(string(res.Body), `"client_id": "key-a"`) {
			t.Errorf("config lacks the apps: %s", res.Body)
		}
	})
	t.Run("RulesReplaced_ForceAnswerTimes", func(t *testing.T) {
		t.Parallel()
		f := setup(t, "")
		body := `{"rules":[{"name":"two-capability-errors","match":{"open_id":"user-a"},"answer":{"errno":90002},"times":2},
		                  {"match":{"token":"static-token-b"},"answer":{"error_code":18}}]}`
		if code := f.admin(http.MethodPut, "/__admin/rules", body, nil); code != 200 {
			t.Fatalf("PUT rules: %d", code)
		}
		var got []outcome
		for range 3 {
			got = append(got, f.sendForm("static-token-a", text("user-a", "hi")).outcome(t))
		}
		got = append(got, f.sendForm("static-token-b", text("user-b", "hi")).outcome(t))
		if diff := cmp.Diff([]outcome{errCapability, errCapability, okMsg, errQPSLimit}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if es := f.journal(store.Query{App: "1001", Limit: 1}); es[0].Rule != "" {
			t.Errorf("third send was forced by %q", es[0].Rule)
		}
		if es := f.journal(store.Query{App: "1001", Outcome: "90002"}); len(es) != 2 || es[0].Rule != "two-capability-errors" {
			t.Errorf("forced entries = %+v", es)
		}
		var rules struct {
			Rules []struct {
				Used int `json:"used"`
			} `json:"rules"`
		}
		f.admin(http.MethodGet, "/__admin/rules", "", &rules)
		if len(rules.Rules) != 2 || rules.Rules[0].Used != 2 || rules.Rules[1].Used != 1 {
			t.Errorf("rule use counts = %+v", rules)
		}
	})
	t.Run("RulesRejected_KeepOldRules", func(t *testing.T) {
		t.Parallel()
		f := setup(t, "")
		f.admin(http.MethodPut, "/__admin/rules", `{"rules":[{"match":{"open_id":"user-a"},"answer":{"errno":90002}}]}`, nil)
		tests := []struct{ body, want string }{
			{`{"rules":[{"match":{"openid":"x"},"answer":{"errno":90002}}]}`, `request body:1: unknown key "openid" (did you mean "open_id"?)`},
			{`{"rules":[{"answer":{}}]}`, "rules[0].answer: needs errno"},
			{`{"rules":[{"answer":{"errno":4242}}]}`, "4242 is not in the catalogue"},
			{`not json at all: [`, "request body"},
		}
		for _, tt := range tests {
			var e admin.ErrorBody
			if code := f.admin(http.MethodPut, "/__admin/rules", tt.body, &e); code != 400 || !strings.Contains(e.Error, tt.want) {
				t.Errorf("PUT %s: %d %q, want 400 with %q", tt.body, code, e.Error, tt.want)
			}
		}
		if got := f.sendForm("static-token-a", text("user-a", "hi")).outcome(t); got != errCapability {
			t.Errorf("old rule lost: %+v", got)
		}
	})
	t.Run("UserMessageOpensWindow", func(t *testing.T) {
		t.Parallel()
		f := setup(t, "")
		if got := f.sendForm("static-token-a", text("new-user", "hi")).outcome(t); got != errQuota {
			t.Fatalf("before: %+v", got)
		}
		var v admin.AppView
		if code := f.admin(http.MethodPost, "/__admin/apps/1001/messages", `{"open_id":"new-user"}`, &v); code != 200 {
			t.Fatalf("user message: %d", code)
		}
		if got := f.sendForm("static-token-a", text("new-user", "hi")).outcome(t); got != okMsg {
			t.Errorf("after: %+v", got)
		}
		f.admin(http.MethodGet, "/__admin/apps/1001", "", &v)
		var w *admin.WindowView
		for i := range v.Windows {
			if v.Windows[i].OpenID == "new-user" {
				w = &v.Windows[i]
			}
		}
		if w == nil || w.Replies != 1 || w.RepliesLeft != 4 || !w.Open || !w.UserMessage {
			t.Errorf("window = %+v", w)
		}
	})
	t.Run("CapabilityToggle", func(t *testing.T) {
		t.Parallel()
		f := setup(t, "")
		f.admin(http.MethodPut, "/__admin/apps/1001/capability", `{"enabled":false}`, nil)
		if got := f.sendForm("static-token-a", text("user-a", "hi")).outcome(t); got != errCapability {
			t.Errorf("off: %+v", got)
		}
		f.admin(http.MethodPut, "/__admin/apps/1001/capability", `{"enabled":true}`, nil)
		if got := f.sendForm("static-token-a", text("user-a", "hi")).outcome(t); got != okMsg {
			t.Errorf("on: %+v", got)
		}
	})
	t.Run("ResetApp_OnlyThatApp", func(t *testing.T) {
		t.Parallel()
		f := setup(t, "")
		for range 5 {
			f.sendForm("static-token-a", text("user-a", "hi"))
		}
		f.admin(http.MethodPut, "/__admin/apps/1001/capability", `{"enabled":false}`, nil)
		f.admin(http.MethodPut, "/__admin/apps/1002/capability", `{"enabled":true}`, nil)
		f.admin(http.MethodPost, "/__admin/apps/1001/reset", "", nil)
		if got := f.sendForm("static-token-a", text("user-a", "hi")).outcome(t); got != okMsg {
			t.Errorf("after reset: %+v (configured window and capability should be back)", got)
		}
		if got := f.sendForm("static-token-b", text("user-b", "hi")).outcome(t); got != okMsg {
			t.Errorf("other app changed by reset: %+v", got)
		}
		if n := len(f.journal(store.Query{App: "1001"})); n != 1 {
			t.Errorf("journal of reset app has %d entries, want 1", n)
		}
	})
	t.Run("ResetAll", func(t *testing.T) {
		t.Parallel()
		f := setup(t, "")
		f.sendForm("static-token-a", text("user-a", "hi"))
		f.sendForm("", text("user-a", "hi"))
		f.admin(http.MethodPost, "/__admin/reset", "", nil)
		if n := len(f.journal(store.Query{})); n != 0 {
			t.Errorf("journal has %d entries after reset", n)
		}
	})
	t.Run("JournalFilters", func(t *testing.T) {
		t.Parallel()
		f := setup(t, "")
		f.sendForm("static-token-a", text("user-a", "one"))
		f.sendForm("static-token-a", text("user-a", ""))
		f.sendForm("static-token-a", text("errno_90002", "x"))
		f.sendForm("static-token-b", text("user-b", "x"))
		f.sendForm("", text("user-a", "x"))
		count := func(q string) int {
			var out struct {
				Count    int           `json:"count"`
				Requests []store.Entry `json:"requests"`
			}
			if code := f.admin(http.MethodGet, "/__admin/requests"+q, "", &out); code != 200 {
				t.Fatalf("%s: %d", q, code)
			}
			for i := 1; i < len(out.Requests); i++ {
				if out.Requests[i].Seq > out.Requests[i-1].Seq {
					t.Errorf("%s: not newest first", q)
				}
			}
			return out.Count
		}
		tests := []struct {
			q    string
			want int
		}{
			{"", 5}, {"?app=1001", 3}, {"?app=1002", 1}, {"?open_id=user-a", 3}, {"?outcome=ok", 1},
			{"?outcome=error", 4}, {"?outcome=3001", 1}, {"?outcome=gateway+100", 1}, {"?app=1001&outcome=error", 2}, {"?limit=2", 2},
		}
		for _, tt := range tests {
			if got := count(tt.q); got != tt.want {
				t.Errorf("GET /__admin/requests%s: count %d, want %d", tt.q, got, tt.want)
			}
		}
		var e admin.ErrorBody
		if code := f.admin(http.MethodGet, "/__admin/requests?opend_id=x", "", &e); code != 400 || !strings.Contains(e.Error, "opend_id") {
			t.Errorf("unknown filter: %d %q", code, e.Error)
		}
	})
	t.Run("Errors_AreJSONWithClearMessage", func(t *testing.T) {
		t.Parallel()
		f := setup(t, "")
		tests := []struct {
			method, path, body string
			status             int
			want               string
		}{
			{http.MethodGet, "/__admin/apps/9999", "", 404, `unknown app "9999"; GET /__admin/apps lists the apps`},
			{http.MethodGet, "/__admin/apps/1010", "", 404, `unknown app "1010"; did you mean "1001"?; GET /__admin/apps lists the apps`},
			{http.MethodPost, "/__admin/apps/1001/messages", `{}`, 400, "open_id: required"},
			{http.MethodPost, "/__admin/apps/1001/messages", `{"openid":"x"}`, 400, `unknown field "openid"`},
			{http.MethodPost, "/__admin/apps/1001/clock", `{"advance":"-1h"}`, 400, "only moves forward"},
			{http.MethodPost, "/__admin/apps/1001/clock", `{"advance":"soon"}`, 400, "invalid duration"},
			{http.MethodPost, "/__admin/apps/1001/clock", `{"advance":"900000h"}`, 400, "at most 876000h0m0s ahead"},
			{http.MethodPost, "/__admin/apps/1001/clock", `{"advance":"525600h"}`, 200, ""},
			{http.MethodPost, "/__admin/apps/1001/clock", `{"advance":"525600h"}`, 400, "(350400h0m0s left for app 1001)"},
			{http.MethodPut, "/__admin/apps/1001/capability", ``, 400, "empty body"},
			{http.MethodGet, "/__admin/nothing", "", 404, "no admin endpoint"},
			{http.MethodDelete, "/__admin/rules", "", 405, "not allowed"},
		}
		for _, tt := range tests {
			var e admin.ErrorBody
			if code := f.admin(tt.method, tt.path, tt.body, &e); code != tt.status || !strings.Contains(e.Error, tt.want) {
				t.Errorf("%s %s %s: %d %q, want %d with %q", tt.method, tt.path, tt.body, code, e.Error, tt.status, tt.want)
			}
		}
	})
}

func TestAdminToken(t *testing.T) {
	t.Parallel()
	cfg := configtest.Parse(t, configtest.Strict)
	srv, err := newSandboxAdmin(mockserver.Options{Config: cfg}, admin.Options{Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, auth string
		want             int
	}{
		{"HealthIsOpen", "/__admin/health", "", 200},
		{"NoToken", "/__admin/requests", "", 401},
		{"WrongToken", "/__admin/requests", "Bearer nope", 401},
		{"RightToken", "/__admin/requests", "Bearer s3cret", 200},
		{"APIPathsNeedNoAdminToken", "/oauth/2.0/token?grant_type=client_credentials&client_id=key-a&client_secret=secret-a", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status = %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
		})
	}
}
