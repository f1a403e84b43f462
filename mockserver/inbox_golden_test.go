package mockserver

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/config"
)

// TestInboxPagesGolden pins the exact HTML of the inbox page and the login form for each kind of
// view, hostile values included, in testdata/inbox/. Run with -update after a deliberate change
// to the page, and read the diff.
func TestInboxPagesGolden(t *testing.T) {
	cfg, err := config.Parse("inbox-golden.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Config: cfg, Now: newTestClock().Now, AdminToken: "adm", Version: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
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
				req.AddCookie(&http.Cookie{Name: inboxCookie, Value: srv.inboxSessionValue()})
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
				t.Fatalf("%v (run go test ./mockserver -run TestInboxPagesGolden -update)", err)
			}
			if diff := cmp.Diff(string(want), rec.Body.String()); diff != "" {
				t.Errorf("GET %s differs from %s (-want +got):\n%s", tt.target, golden, diff)
			}
		})
	}
}

// TestHTMLPageEscapes pins that every way a value enters the page escapes it for its place.
func TestHTMLPageEscapes(t *testing.T) {
	const hostile = `<a href='x'>"&amp;" é</a>`
	tests := []struct {
		name  string
		write func(*htmlPage, string)
		want  string
	}{
		{"escaped", (*htmlPage).escaped, `&lt;a href=&#39;x&#39;&gt;&#34;&amp;amp;&#34; é&lt;/a&gt;`},
		{"queryAttr", (*htmlPage).queryAttr, `%3Ca+href%3D%27x%27%3E%22%26amp%3B%22+%C3%A9%3C%2Fa%3E`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p htmlPage
			tt.write(&p, hostile)
			if diff := cmp.Diff(tt.want, string(p.bytes())); diff != "" {
				t.Errorf("%s(%q) (-want +got):\n%s", tt.name, hostile, diff)
			}
		})
	}
}
