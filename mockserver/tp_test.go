package mockserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/internal/spec"
	"github.com/smartappmock/smartappmock/internal/teststores"
	"github.com/smartappmock/smartappmock/store"
)

// tpConfig has one configured platform, an app that granted it customer service and one that did
// not.
const tpConfig = `
version: 1
policy:
  profile: baidu
platforms:
  - {key: tp-key, secret: tp-secret, ticket: tp-ticket}
apps:
  - id: "2001"
    client_id: key-granted
    client_secret: s
    platforms: [tp-key]
  - id: "2002"
    client_id: key-not-granted
    client_secret: s
`

// tpServe routes the third-party operations to their handlers, as Server.ServeHTTP will.
func tpServe(s *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch op, _ := s.spec.FindOperation(r); op {
		case spec.OpTPToken:
			s.serveTPToken(w, r)
		case spec.OpPreAuthCode:
			s.servePreAuthCode(w, r)
		case spec.OpTPOAuth:
			s.serveTPOAuth(w, r)
		default:
			s.ServeHTTP(w, r)
		}
	})
}

type tpFixture struct {
	t   *testing.T
	s   *Server
	now time.Time
}

func newTPFixture(t *testing.T, yaml string) *tpFixture {
	t.Helper()
	return newTPFixtureOn(t, yaml, nil)
}

// newTPFixtureOn is newTPFixture on a store (nil: in memory).
func newTPFixtureOn(t *testing.T, yaml string, st store.Store) *tpFixture {
	t.Helper()
	cfg := config.Default()
	if yaml != "" {
		var err error
		if cfg, err = config.Parse("tp.yaml", []byte(yaml)); err != nil {
			t.Fatal(err)
		}
	}
	f := &tpFixture{t: t, now: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)}
	s, err := New(Options{Config: cfg, Store: st, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	return f
}

// get sends a GET and returns the recorder, after checking the answer against openapi.yaml.
func (f *tpFixture) get(path string, q url.Values) *httptest.ResponseRecorder {
	f.t.Helper()
	r := httptest.NewRequest(http.MethodGet, path+"?"+q.Encode(), nil)
	w := httptest.NewRecorder()
	tpServe(f.s).ServeHTTP(w, r)
	if vs := f.s.spec.CheckResponse(r, w.Code, w.Header(), w.Body.Bytes()); len(vs) > 0 {
		f.t.Errorf("GET %s answer breaks openapi.yaml: %s\n%s", path, spec.Join(vs), w.Body)
	}
	return w
}

func (f *tpFixture) platformToken(key, ticket string) string {
	f.t.Helper()
	w := f.get(smartappmock.TPTokenPath, url.Values{"client_id": {key}, "ticket": {ticket}})
	var env struct {
		Errno int `json:"errno"`
		Data  struct {
			AccessToken string `json:"access_token"`
		} `json:"data"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Data.AccessToken == "" {
		f.t.Fatalf("tp token: %s (%v)", w.Body, err)
	}
	return env.Data.AccessToken
}

func (f *tpFixture) exchange(q url.Values) (smartappmock.AuthorizerTokenResponse, *httptest.ResponseRecorder) {
	f.t.Helper()
	w := f.get(smartappmock.TPOAuthPath, q)
	var tok smartappmock.AuthorizerTokenResponse
	if w.Code == http.StatusOK {
		if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil {
			f.t.Fatal(err)
		}
	}
	return tok, w
}

// TestTP_RoundTrip: platform token, pre-authorization code, the admin's consent, authorizer tokens,
// one refresh; a second refresh with the same refresh token fails, and so does a second exchange
// of the same code.
func TestTP_RoundTrip(t *testing.T) {
	t.Parallel()
	teststores.Each(t, func(t *testing.T, k teststores.Kind) {
		f := newTPFixtureOn(t, tpConfig, k.Open(t))
		pt := f.platformToken("tp-key", "tp-ticket")
		if !strings.HasPrefix(pt, "42.") {
			t.Fatalf("platform token %q", pt)
		}
		if w := f.get(smartappmock.PreAuthCodePath, url.Values{"access_token": {pt}}); !strings.Contains(w.Body.String(), `"pre_auth_code"`) {
			t.Fatalf("pre-auth code: %s", w.Body)
		}
		code, warnings, err := f.s.AuthorizePlatform(t.Context(), "tp-key", "2001")
		if err != nil || len(warnings) > 0 {
			t.Fatalf("AuthorizePlatform = %q, %v, %v", code, warnings, err)
		}
		tok, w := f.exchange(url.Values{"access_token": {pt}, "grant_type": {smartappmock.GrantAppToTPCode}, "code": {code}})
		if w.Code != http.StatusOK || !AuthorizerToken(tok.AccessToken) || !strings.HasPrefix(tok.RefreshToken, "46.") || tok.ExpiresIn != 3600 {
			t.Fatalf("exchange: %d %s", w.Code, w.Body)
		}
		if _, w := f.exchange(url.Values{"access_token": {pt}, "grant_type": {smartappmock.GrantAppToTPCode}, "code": {code}}); w.Code != http.StatusBadRequest {
			t.Errorf("second exchange of one code: %d %s, want 400", w.Code, w.Body)
		}
		refreshed, w := f.exchange(url.Values{"access_token": {pt}, "grant_type": {smartappmock.GrantAppToTPRefresh}, "refresh_token": {tok.RefreshToken}})
		if w.Code != http.StatusOK || refreshed.AccessToken == tok.AccessToken {
			t.Fatalf("refresh: %d %s", w.Code, w.Body)
		}
		_, w = f.exchange(url.Values{"access_token": {pt}, "grant_type": {smartappmock.GrantAppToTPRefresh}, "refresh_token": {tok.RefreshToken}})
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"invalid_grant"`) {
			t.Errorf("second refresh with one refresh token: %d %s, want 400 invalid_grant", w.Code, w.Body)
		}
		if _, w := f.exchange(url.Values{"access_token": {pt}, "grant_type": {smartappmock.GrantAppToTPRefresh}, "refresh_token": {refreshed.RefreshToken}}); w.Code != http.StatusOK {
			t.Errorf("refresh with the new refresh token: %d %s", w.Code, w.Body)
		}
		stored, found, _ := f.s.store.Token(t.Context(), refreshed.AccessToken)
		if !found || stored.App != "2001" || !stored.Expires.Equal(f.now.Add(time.Hour)) {
			t.Errorf("stored authorizer token = %+v, %v; want app 2001, one hour", stored, found)
		}
		entries, _ := f.s.store.Journal(t.Context(), store.Query{App: "2001"})
		if len(entries) == 0 || entries[0].Endpoint != "tp_oauth" {
			t.Errorf("journal of 2001: %+v", entries)
		}
		for _, e := range entries {
			for _, p := range e.Params {
				if p.Name == "refresh_token" && strings.Contains(p.Value, tok.RefreshToken) {
					t.Errorf("journal keeps the refresh token in the clear: %+v", p)
				}
			}
		}
	})
}

// TestTP_Refusals: every wrong input of the token endpoints answers its documented shape.
func TestTP_Refusals(t *testing.T) {
	t.Parallel()
	teststores.Each(t, func(t *testing.T, k teststores.Kind) {
		f := newTPFixtureOn(t, tpConfig, k.Open(t))
		pt := f.platformToken("tp-key", "tp-ticket")
		code, _, err := f.s.AuthorizePlatform(t.Context(), "tp-key", "2001")
		if err != nil {
			t.Fatal(err)
		}
		other := newTPFixtureOn(t, "", k.Open(t))
		otherPT := other.platformToken("any-key", "any-ticket")
		tests := []struct {
			name, path  string
			q           url.Values
			wantStatus  int
			wantOutcome string
		}{
			{"TPToken_NoKey_40001", smartappmock.TPTokenPath, url.Values{"ticket": {"t"}}, 200, "business 40001"},
			{"TPToken_NoTicket_40001", smartappmock.TPTokenPath, url.Values{"client_id": {"tp-key"}}, 200, "business 40001"},
			{"TPToken_WrongTicket_40001", smartappmock.TPTokenPath, url.Values{"client_id": {"tp-key"}, "ticket": {"old"}}, 200, "business 40001"},
			{"TPToken_WrongSecret_40001", smartappmock.TPTokenPath, url.Values{"client_id": {"tp-key"}, "ticket": {"tp-ticket"}, "client_secret": {"x"}}, 200, "business 40001"},
			{"TPToken_UnknownKeyUnderBaidu_40001", smartappmock.TPTokenPath, url.Values{"client_id": {"other"}, "ticket": {"t"}}, 200, "business 40001"},
			{"PreAuth_NoToken_100", smartappmock.PreAuthCodePath, url.Values{}, 200, "gateway 100"},
			{"PreAuth_AppToken_110", smartappmock.PreAuthCodePath, url.Values{"access_token": {"24.x"}}, 200, "gateway 110"},
			{"PreAuth_ForeignPlatformToken_110", smartappmock.PreAuthCodePath, url.Values{"access_token": {otherPT}}, 200, "gateway 110"},
			{"OAuth_NoGrant_InvalidRequest", smartappmock.TPOAuthPath, url.Values{"access_token": {pt}}, 400, "oauth invalid_request"},
			{"OAuth_ClientCredentials_Unsupported", smartappmock.TPOAuthPath, url.Values{"access_token": {pt}, "grant_type": {"client_credentials"}}, 400, "oauth unsupported_grant_type"},
			{"OAuth_NoPlatformToken_InvalidClient", smartappmock.TPOAuthPath, url.Values{"grant_type": {smartappmock.GrantAppToTPCode}, "code": {code}}, 400, "oauth invalid_client"},
			{"OAuth_UnknownCode_InvalidGrant", smartappmock.TPOAuthPath, url.Values{"access_token": {pt}, "grant_type": {smartappmock.GrantAppToTPCode}, "code": {"nope"}}, 400, "oauth invalid_grant"},
			{"OAuth_AppRefreshToken_InvalidGrant", smartappmock.TPOAuthPath, url.Values{"access_token": {pt}, "grant_type": {smartappmock.GrantAppToTPRefresh}, "refresh_token": {"25.x"}}, 400, "oauth invalid_grant"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := f.get(tt.path, tt.q)
				if w.Code != tt.wantStatus || w.Header().Get(smartappmock.HeaderOutcome) != tt.wantOutcome {
					t.Errorf("%d %q, want %d %q; reason %q", w.Code, w.Header().Get(smartappmock.HeaderOutcome), tt.wantStatus, tt.wantOutcome, w.Header().Get(smartappmock.HeaderReason))
				}
			})
		}
		// A refused platform token is a business envelope of the platform's errno table, byte for byte.
		if w := f.get(smartappmock.TPTokenPath, url.Values{"ticket": {"t"}}); w.Body.String() != `{"errno":40001,"msg":"参数错误","data":{}}` {
			t.Errorf("refused platform token answered %s", w.Body)
		}
		// A code lasts 20 minutes on its app's clock.
		f.now = f.now.Add(21 * time.Minute)
		if _, w := f.exchange(url.Values{"access_token": {pt}, "grant_type": {smartappmock.GrantAppToTPCode}, "code": {code}}); w.Code != http.StatusBadRequest {
			t.Errorf("code after 21 minutes: %d %s, want 400", w.Code, w.Body)
		}
	})
}

// TestTP_SandboxPlatform_Warns: under the embedded default any platform key works, and every
// answer that relies on it says so.
func TestTP_SandboxPlatform_Warns(t *testing.T) {
	t.Parallel()
	teststores.Each(t, func(t *testing.T, k teststores.Kind) {
		f := newTPFixtureOn(t, "", k.Open(t))
		w := f.get(smartappmock.TPTokenPath, url.Values{"client_id": {"any-key"}, "ticket": {"any"}})
		if got := w.Header().Values(smartappmock.HeaderWarning); len(got) != 1 || got[0] != WarnSandboxPlatform.Message() {
			t.Errorf("warnings = %q, want the sandbox platform's", got)
		}
		if _, _, err := f.s.AuthorizePlatform(t.Context(), "any-key", "no-such-app"); err == nil {
			t.Error("AuthorizePlatform accepted an unknown app")
		}
		strict := newTPFixtureOn(t, tpConfig, k.Open(t))
		if _, _, err := strict.s.AuthorizePlatform(t.Context(), "other-key", "2001"); err == nil || !strings.Contains(err.Error(), "not configured") {
			t.Errorf("AuthorizePlatform of an unconfigured platform under baidu: %v", err)
		}
	})
}

// TestCheckPlatformGrant: a configured app must grant a configured platform; a sandbox platform
// passes with its warning.
func TestCheckPlatformGrant(t *testing.T) {
	t.Parallel()
	f := newTPFixture(t, tpConfig)
	tokenOf := func(key string) string {
		return tpValue(prefixAuthorizerToken, PlatformTag(key), 3600, f.now, "x")
	}
	tests := []struct {
		name, token, app string
		wantOK           bool
		wantCode         int
		wantWarn         int
	}{
		{"Granted_Sends", tokenOf("tp-key"), "2001", true, 0, 0},
		{"NotGranted_90002", tokenOf("tp-key"), "2002", false, 90002, 0},
		{"UnconfiguredApp_Sends", tokenOf("tp-key"), "sandbox-app", true, 0, 0},
		{"SandboxPlatform_SendsWithWarning", tokenOf("elsewhere"), "2002", true, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok, warns := f.s.CheckPlatformGrant(tt.token, tt.app)
			if ok != tt.wantOK || d.Code != tt.wantCode || len(warns) != tt.wantWarn {
				t.Errorf("= %+v, %v, %v; want ok %v, code %d, %d warnings", d, ok, warns, tt.wantOK, tt.wantCode, tt.wantWarn)
			}
		})
	}
}
