package sandbox

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/store"
)

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		type want struct {
			Status       int
			Error        string
			Description  string
			CacheControl string
		}
		ok := want{Status: 200, CacheControl: "no-store"}
		bad := func(e, d string) want { return want{Status: 400, Error: e, Description: d, CacheControl: "no-store"} }
		creds := func(id, secret string) url.Values {
			return url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {"smartapp_snsapi_base"}}
		}
		tests := []struct {
			name   string
			config string
			method string
			params url.Values
			want   want
		}{
			{"Success_GetQuery", "", http.MethodGet, creds("key-a", "secret-a"), ok},
			{"Success_PostForm", "", http.MethodPost, creds("key-a", "secret-a"), ok},
			{"Success_NoScope", "", http.MethodGet, url.Values{"grant_type": {"client_credentials"}, "client_id": {"key-a"}, "client_secret": {"secret-a"}}, ok},
			{"Success_UnknownParamsIgnored", "", http.MethodGet, func() url.Values { v := creds("key-a", "secret-a"); v.Set("sp_sdk_ver", "1"); return v }(), ok},
			{"ErrUnknownClient", "", http.MethodGet, creds("nobody", "x"), bad("invalid_client", "unknown client id")},
			{"ErrBadSecret", "", http.MethodGet, creds("key-a", "wrong"), bad("invalid_client", "Client authentication failed")},
			{"ErrMissingSecret", "", http.MethodGet, url.Values{"grant_type": {"client_credentials"}, "client_id": {"key-a"}}, bad("invalid_client", "Client authentication failed")},
			{"ErrMissingClientID", "", http.MethodGet, url.Values{"grant_type": {"client_credentials"}}, bad("invalid_client", "unknown client id")},
			{"ErrMissingGrantType", "", http.MethodGet, url.Values{"client_id": {"key-a"}, "client_secret": {"secret-a"}}, bad("invalid_request", "missing grant_type")},
			{"ErrUnsupportedGrant", "", http.MethodGet, func() url.Values { v := creds("key-a", "secret-a"); v.Set("grant_type", "password"); return v }(), bad("unsupported_grant_type", "The authorization grant type is not supported")},
			{"ErrInvalidScope", "", http.MethodGet, func() url.Values { v := creds("key-a", "secret-a"); v.Set("scope", "snsapi_userinfo"); return v }(), bad("invalid_scope", "The requested scope is invalid")},
			{"Sandbox_AnyClientGetsToken", "version: 1\npolicy: {apps: sandbox}\n", http.MethodGet, creds("new-client", "s1"), ok},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				f := k.setup(t, tt.config)
				var req *http.Request
				if tt.method == http.MethodGet {
					req = httptest.NewRequest(http.MethodGet, smartappmock.TokenPath+"?"+tt.params.Encode(), nil)
				} else {
					req = httptest.NewRequest(http.MethodPost, smartappmock.TokenPath, strings.NewReader(tt.params.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				res := f.do(req)
				var body struct {
					Error            string `json:"error"`
					ErrorDescription string `json:"error_description"`
				}
				mustUnmarshal(t, res.Body, &body)
				got := want{Status: res.Status, Error: body.Error, Description: body.ErrorDescription, CacheControl: res.Header.Get("Cache-Control")}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s\nreason: %s", diff, res.Header.Get(smartappmock.HeaderReason))
				}
			})
		}
	})
}

func TestTokenShape(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		f := k.setup(t, "")
		res := f.do(httptest.NewRequest(http.MethodGet, smartappmock.TokenPath+"?grant_type=client_credentials&client_id=key-a&client_secret=secret-a", nil))
		var tr smartappmock.TokenResponse
		mustUnmarshal(t, res.Body, &tr)
		unix := f.clock.Now().Unix()
		access := regexp.MustCompile(`^24\.[0-9a-f]{32}\.2592000\.` + itoa(int(unix)) + `\.282335-1001$`)
		refresh := regexp.MustCompile(`^25\.[0-9a-f]{32}\.315360000\.` + itoa(int(unix)) + `\.282335-1001$`)
		if !access.MatchString(tr.AccessToken) {
			t.Errorf("access_token %q does not match %s", tr.AccessToken, access)
		}
		if !refresh.MatchString(tr.RefreshToken) {
			t.Errorf("refresh_token %q does not match %s", tr.RefreshToken, refresh)
		}
		if tr.ExpiresIn != 2592000 || tr.Scope == "" || tr.SessionKey == "" || tr.SessionSecret == "" {
			t.Errorf("token response = %+v", tr)
		}
		if !strings.Contains(string(res.Body), `"expires_in":2592000`) {
			t.Errorf("expires_in is not a JSON number: %s", res.Body)
		}
		if tr2 := f.token("key-a", "secret-a"); tr2 == tr.AccessToken {
			t.Errorf("two token requests gave the same token")
		}
	})
}

func TestSandboxApps(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		sandbox := "version: 1\npolicy: {apps: sandbox, tokens: issued, window: {mode: open_on_first_send}}\n"
		t.Run("FirstSecretKept_OtherSecretRejected", func(t *testing.T) {
			t.Parallel()
			f := k.setup(t, sandbox)
			f.token("client-x", "first")
			res := f.do(httptest.NewRequest(http.MethodGet, smartappmock.TokenPath+"?grant_type=client_credentials&client_id=client-x&client_secret=second", nil))
			if res.Status != 400 || !strings.Contains(string(res.Body), "Client authentication failed") {
				t.Errorf("second secret: %d %s", res.Status, res.Body)
			}
			if tok := f.token("client-x", "first"); tok == "" {
				t.Error("first secret no longer works")
			}
		})
		t.Run("SandboxAppsAreIsolated", func(t *testing.T) {
			t.Parallel()
			f := k.setup(t, sandbox)
			tx, ty := f.token("client-x", "s"), f.token("client-y", "s")
			for range 5 {
				f.sendForm(tx, text("same-user", "hi"))
			}
			if got := f.sendForm(tx, text("same-user", "hi")).outcome(t); got != errQuota {
				t.Errorf("app x sixth send: %+v", got)
			}
			if got := f.sendForm(ty, text("same-user", "hi")).outcome(t); got != okMsg {
				t.Errorf("app y first send: %+v", got)
			}
			if got := f.journal(store.Query{App: "client-y"}); len(got) != 2 { // token + send
				t.Errorf("app y journal has %d entries, want 2", len(got))
			}
		})
		t.Run("IssuedTokenPolicy_UnknownTokenRejected", func(t *testing.T) {
			t.Parallel()
			f := k.setup(t, sandbox)
			if got := f.sendForm("made-up", text("u", "hi")).outcome(t); got != errBadToken {
				t.Errorf("got %+v", got)
			}
		})
		t.Run("SandboxTokenPolicy_AnyTokenIsItsOwnApp", func(t *testing.T) {
			t.Parallel()
			f := k.setup(t, "version: 1\npolicy: {tokens: sandbox, window: {mode: open_on_first_send}}\n")
			for range 5 {
				f.sendForm("token-one", text("u", "hi"))
			}
			if got := f.sendForm("token-one", text("u", "hi")).outcome(t); got != errQuota {
				t.Errorf("token-one sixth send: %+v", got)
			}
			if got := f.sendForm("token-two", text("u", "hi")).outcome(t); got != okMsg {
				t.Errorf("token-two first send: %+v", got)
			}
		})
		t.Run("SandboxTokenPolicy_BaiduShapedUnissuedTokenRejected", func(t *testing.T) {
			t.Parallel()
			f := k.setup(t, "version: 1\npolicy: {apps: sandbox, tokens: sandbox, window: {mode: open_on_first_send}}\n")
			stale := "24.0123456789abcdef0123456789abcdef.2592000.1795000000.282335-my-app"
			res := f.sendForm(stale, text("u", "hi"))
			if diff := cmp.Diff(errBadToken, res.outcome(t)); diff != "" {
				t.Errorf("stale Baidu-shaped token (-want +got):\n%s", diff)
			}
			if !strings.Contains(res.Header.Get(smartappmock.HeaderReason), "stale") {
				t.Errorf("reason = %q", res.Header.Get(smartappmock.HeaderReason))
			}
			// A token the fake issued in sandbox mode still works.
			if got := f.sendForm(f.token("my-app", "s"), text("u", "hi")).outcome(t); got != okMsg {
				t.Errorf("issued token: %+v", got)
			}
		})
		t.Run("ConfiguredPolicy_UnknownClientRejected", func(t *testing.T) {
			t.Parallel()
			f := k.setup(t, "")
			res := f.do(httptest.NewRequest(http.MethodGet, smartappmock.TokenPath+"?grant_type=client_credentials&client_id=client-x&client_secret=s", nil))
			if res.Status != 400 || !strings.Contains(string(res.Body), "unknown client id") {
				t.Errorf("got %d %s", res.Status, res.Body)
			}
		})
	})
}

func TestRefreshTokenGrant(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		f := k.setup(t, "")
		res := f.do(httptest.NewRequest(http.MethodGet, smartappmock.TokenPath+"?grant_type=client_credentials&client_id=key-a&client_secret=secret-a", nil))
		var tr smartappmock.TokenResponse
		mustUnmarshal(t, res.Body, &tr)
		q := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {"key-a"}, "client_secret": {"secret-a"}}
		res = f.do(httptest.NewRequest(http.MethodGet, smartappmock.TokenPath+"?"+q.Encode(), nil))
		if res.Status != 200 {
			t.Fatalf("refresh: %d %s", res.Status, res.Body)
		}
		q.Set("refresh_token", "25.nope")
		res = f.do(httptest.NewRequest(http.MethodGet, smartappmock.TokenPath+"?"+q.Encode(), nil))
		if res.Status != 400 || !strings.Contains(string(res.Body), "invalid_grant") {
			t.Errorf("bad refresh token: %d %s", res.Status, res.Body)
		}
	})
}
