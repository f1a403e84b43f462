package sandbox

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
)

// TestInboxPagesGolden pins the exact HTML of the inbox page and the login form for each kind of
// view, hostile values included, in testdata/inbox/. Run with -update after a deliberate change
// to the page, and read the diff.
func TestInboxPagesGolden(t *testing.T) {
	cfg := configtest.Parse(t, configtest.Strict)
	srv, err := newSandboxAdmin(mockserver.Options{Config: cfg, Now: newTestClock().Now, Version: "v1.2.3"}, admin.Options{Token: "adm"})
	if err != nil {
		t.Fatal(err)
	}
	login := httptest.NewRequest(http.MethodPost, admin.LoginPath, strings.NewReader("token=adm"))
	login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	lrec := httptest.NewRecorder()
	srv.ServeHTTP(lrec, login)
	var session *http.Cookie
	for _, c := range lrec.Result().Cookies() {
		if c.Name == admin.SessionCookie {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("login set no session cookie: %d %s", lrec.Code, lrec.Body)
	}
	const hostile = `"><script>alert('x&y')</script>`
	tests := []struct {
		name   string
		target string
		cookie bool // send the session cookie (the page offers to log out)
	}{
		{name: "all-apps", target: "/__admin/ui"},
		{name: "app", target: "/__admin/ui?app=1001"},
		{name: "app-user-outcome", target: "/__admin/ui?app=1002&open_id=user-b&outcome=business+90001&limit=50"},
		{name: "filter-without-app", target: "/__admin/ui?outcome=error"},
		{name: "hostile-open-id", target: "/__admin/ui?app=1001&open_id=" + url.QueryEscape(hostile) + "&outcome=" + url.QueryEscape(hostile)},
		{name: "logged-in", target: "/__admin/ui?app=1003", cookie: true},
		{name: "login", target: "/__admin/ui/login?q=" + url.QueryEscape("app=1001&open_id=a b")},
		{name: "login-failed-hostile", target: "/__admin/ui/login?failed=1&q=" + url.QueryEscape(hostile)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.target, nil)
			if tt.name != "login" && tt.name != "login-failed-hostile" {
				req.Header.Set("Authorization", "Bearer adm")
			}
			if tt.cookie {
				req.AddCookie(&http.Cookie{Name: admin.SessionCookie, Value: session.Value})
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: status %d: %s", tt.target, rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q; want text/html; charset=utf-8", ct)
			}
			golden := filepath.Join("testdata", "inbox", tt.name+".golden.html")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, rec.Body.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./mockserver/sandbox -run TestInboxPagesGolden -update)", err)
			}
			if diff := cmp.Diff(string(want), rec.Body.String()); diff != "" {
				t.Errorf("GET %s differs from %s (-want +got):\n%s", tt.target, golden, diff)
			}
		})
	}
}
