package admin_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
)

func newAPI(t *testing.T, opts admin.Options) http.Handler {
	t.Helper()
	core, err := mockserver.New(mockserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return admin.New(core, opts).Wrap(core)
}

// TestGuard pins who may reach the admin API: cross-site writes never, foreign hosts not while
// the fake listens on loopback only, the Bearer scheme in any case.
func TestGuard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   admin.Options
		method string
		path   string
		header map[string]string
		host   string
		want   int
	}{
		{"CrossSiteReset_Refused", admin.Options{}, "POST", "/__admin/reset", map[string]string{"Origin": "http://evil.example", "Content-Type": "text/plain"}, "127.0.0.1:8080", 403},
		{"SecFetchSiteCrossSite_Refused", admin.Options{}, "PUT", "/__admin/rules", map[string]string{"Sec-Fetch-Site": "cross-site"}, "127.0.0.1:8080", 403},
		{"SameSiteOtherPort_Refused", admin.Options{}, "POST", "/__admin/reset", map[string]string{"Origin": "http://127.0.0.1:3000", "Sec-Fetch-Site": "same-site"}, "127.0.0.1:8080", 403},
		{"InboxFormNullOriginSameOrigin_Allowed", admin.Options{}, "POST", "/__admin/reset", map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-origin"}, "127.0.0.1:8080", 200},
		{"NullOrigin_Refused", admin.Options{}, "POST", "/__admin/reset", map[string]string{"Origin": "null"}, "127.0.0.1:8080", 403},
		{"SameOriginReset_Allowed", admin.Options{}, "POST", "/__admin/reset", map[string]string{"Origin": "http://127.0.0.1:8080"}, "127.0.0.1:8080", 200},
		{"NoOriginReset_Allowed", admin.Options{}, "POST", "/__admin/reset", nil, "127.0.0.1:8080", 200},
		{"CrossSiteRead_NotAWrite", admin.Options{}, "GET", "/__admin/health", map[string]string{"Origin": "http://evil.example"}, "127.0.0.1:8080", 200},
		{"ForeignHostOnLoopback_Refused", admin.Options{LoopbackOnly: true}, "GET", "/__admin/requests", nil, "evil.example:8080", 403},
		{"LocalhostOnLoopback_Allowed", admin.Options{LoopbackOnly: true}, "GET", "/__admin/requests", nil, "localhost:8080", 200},
		{"IPv6LoopbackOnLoopback_Allowed", admin.Options{LoopbackOnly: true}, "GET", "/__admin/requests", nil, "[::1]:8080", 200},
		{"ForeignHostNotLoopbackOnly_Allowed", admin.Options{}, "GET", "/__admin/requests", nil, "sandbox.internal:8080", 200},
		{"LowerCaseBearer_Accepted", admin.Options{Token: "tk"}, "GET", "/__admin/rules", map[string]string{"Authorization": "bearer tk"}, "127.0.0.1:8080", 200},
		{"WrongToken_401", admin.Options{Token: "tk"}, "GET", "/__admin/rules", map[string]string{"Authorization": "Bearer nope"}, "127.0.0.1:8080", 401},
		{"ReadyOpenWithToken", admin.Options{Token: "tk"}, "GET", "/__admin/ready", nil, "127.0.0.1:8080", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newAPI(t, tt.opts)
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(""))
			req.Host = tt.host
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("%s %s: %d %s, want %d", tt.method, tt.path, rec.Code, rec.Body, tt.want)
			}
		})
	}
}

// TestSession_LogoutRevokes logs in through the inbox's login form route, uses the cookie, logs
// out, and checks that the same cookie is refused afterwards (the session lives in the store).
func TestSession_LogoutRevokes(t *testing.T) {
	t.Parallel()
	core, err := mockserver.New(mockserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var api *admin.API
	loginUI := func(a *admin.API) http.Handler {
		api = a
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case admin.LoginPath:
				ok, err := a.Login(w, r, r.FormValue("token"))
				if err != nil || !ok {
					w.WriteHeader(http.StatusUnauthorized)
				}
			case admin.LogoutPath:
				a.Logout(w, r)
			}
		})
	}
	h := admin.New(core, admin.Options{Token: "tk", UI: loginUI}).Wrap(core)
	do := func(method, path, body string, c *http.Cookie) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(admin.CSRFHeader, "1")
		if c != nil {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := do("POST", admin.LoginPath, "token=tk", nil)
	var session *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == admin.SessionCookie {
			session = c
		}
	}
	if session == nil || session.Value == "" || session.Value == "tk" {
		t.Fatalf("login: %d, cookie %+v", rec.Code, session)
	}
	if rec := do("POST", "/__admin/reset", "", session); rec.Code != 200 {
		t.Fatalf("reset with a live session: %d %s", rec.Code, rec.Body)
	}
	do("POST", admin.LogoutPath, "", session)
	if rec := do("POST", "/__admin/reset", "", session); rec.Code != http.StatusUnauthorized {
		t.Errorf("reset with a logged-out cookie: %d, want 401", rec.Code)
	}
	other := do("POST", admin.LoginPath, "token=tk", nil).Result().Cookies()
	if len(other) == 0 || other[0].Value == session.Value {
		t.Errorf("a second login reused the session id")
	}
	_ = api
}

// TestRedirect_LongQueryNotEchoed: the inbox's redirect to the login form carries the view's query
// back, but never an oversized one: a 50 KB query gives a plain Location.
func TestRedirect_LongQueryNotEchoed(t *testing.T) {
	t.Parallel()
	h := newAPI(t, admin.Options{Token: "tk"})
	for _, tt := range []struct {
		name, query string
		wantQuery   bool
	}{
		{"ShortQuery_Kept", "app=1001", true},
		{"LongQuery_Dropped", "app=" + strings.Repeat("a", 50_000), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, admin.UIPath+"?"+tt.query, nil))
			loc := rec.Header().Get("Location")
			if rec.Code != http.StatusSeeOther || len(loc) > 4096 || strings.Contains(loc, "app%3D") != tt.wantQuery {
				t.Errorf("GET %s?%.20s…: %d, Location %.100q (%d bytes); want 303 with the query kept: %v", admin.UIPath, tt.query, rec.Code, loc, len(loc), tt.wantQuery)
			}
		})
	}
}
