package sandbox

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
)

// tpConfig: one configured platform; app 2001 granted it customer service, app 2002 did not.
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
    user_messages: [user-1]
    users: [{open_id: user-1}]
  - id: "2002"
    client_id: key-not-granted
    client_secret: s
    user_messages: [user-2]
    users: [{open_id: user-2}]
`

// TestAdmin_AuthorizePlatform: the admin shortcut for the console consent answers an
// authorization code, refuses what Baidu's console would not offer, and warns for a sandbox
// platform.
func TestAdmin_AuthorizePlatform(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		tests := []struct {
			name, config, platform, body string
			wantStatus                   int
			wantWarnings                 int
		}{
			{"ConfiguredPlatformAndApp_Code", tpConfig, "tp-key", `{"app":"2001"}`, http.StatusOK, 0},
			{"NotGrantedApp_StillCode", tpConfig, "tp-key", `{"app":"2002"}`, http.StatusOK, 0}, // the grant is checked at the send
			{"UnknownApp_NotFound", tpConfig, "tp-key", `{"app":"9999"}`, http.StatusNotFound, 0},
			{"UnknownPlatformUnderBaidu_BadRequest", tpConfig, "other", `{"app":"2001"}`, http.StatusBadRequest, 0},
			{"NoApp_BadRequest", tpConfig, "tp-key", `{}`, http.StatusBadRequest, 0},
			{"UnknownField_BadRequest", tpConfig, "tp-key", `{"app":"2001","scope":"all"}`, http.StatusBadRequest, 0},
			{"SandboxPlatform_CodeWithWarning", strings.Replace(configtest.Strict, "apps: configured", "apps: sandbox", 1), "any-key", `{"app":"1001"}`, http.StatusOK, 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				f := k.setup(t, tt.config)
				var got admin.Authorization
				res := f.do(httptest.NewRequest(http.MethodPost, admin.Prefix+"/platforms/"+tt.platform+"/authorize", strings.NewReader(tt.body)))
				if res.Status != tt.wantStatus {
					t.Fatalf("status %d, want %d: %s", res.Status, tt.wantStatus, res.Body)
				}
				if res.Status != http.StatusOK {
					return
				}
				mustUnmarshal(t, res.Body, &got)
				if len(got.AuthorizationCode) != 32 || got.ExpiresIn != 1200 || len(got.Warnings) != tt.wantWarnings {
					t.Errorf("answer = %+v, want a 32-digit code for 1200 s and %d warnings", got, tt.wantWarnings)
				}
				if tt.wantWarnings > 0 && got.Warnings[0].Kind != string(mockserver.WarnSandboxPlatform) {
					t.Errorf("warning = %+v", got.Warnings[0])
				}
			})
		}
	})
}

// tpGet sends a GET to a third-party endpoint and decodes the JSON answer into out.
func (f *fixture) tpGet(path string, q url.Values, out any) response {
	f.t.Helper()
	res := f.do(httptest.NewRequest(http.MethodGet, path+"?"+q.Encode(), nil))
	if out != nil && res.Status == http.StatusOK {
		mustUnmarshal(f.t, res.Body, out)
	}
	return res
}

// sendByTP posts a urlencoded sendbytp with the token in the query.
func (f *fixture) sendByTP(token string, form url.Values) response {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPost, smartappmock.SendByTPPath+"?access_token="+url.QueryEscape(token), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.do(req)
}

// TestSendByTP_RoundTrip: through the real token endpoints, 42. -> code -> 45./46. -> send, and
// refresh once (a second refresh with the same refresh token fails); the token kinds do not mix.
func TestSendByTP_RoundTrip(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		f := k.setup(t, tpConfig)
		var tp struct {
			Data struct {
				AccessToken string `json:"access_token"`
			} `json:"data"`
		}
		res := f.tpGet(smartappmock.TPTokenPath, url.Values{"client_id": {"tp-key"}, "ticket": {"tp-ticket"}}, &tp)
		if o := res.Header.Get(smartappmock.HeaderOutcome); o != "business 0" {
			t.Fatalf("tp token: outcome %q; want business 0", o)
		}
		pt := tp.Data.AccessToken
		var pre struct {
			Data struct {
				PreAuthCode string `json:"pre_auth_code"`
			} `json:"data"`
		}
		if f.tpGet(smartappmock.PreAuthCodePath, url.Values{"access_token": {pt}}, &pre); pre.Data.PreAuthCode == "" {
			t.Fatal("no pre_auth_code")
		}
		authorize := func(app string) string {
			var a admin.Authorization
			if st := f.admin(http.MethodPost, admin.Prefix+"/platforms/tp-key/authorize", `{"app":"`+app+`"}`, &a); st != http.StatusOK {
				t.Fatalf("authorize %s: %d", app, st)
			}
			return a.AuthorizationCode
		}
		exchange := func(q url.Values) (smartappmock.AuthorizerTokenResponse, int) {
			var tok smartappmock.AuthorizerTokenResponse
			q.Set("access_token", pt)
			return tok, f.tpGet(smartappmock.TPOAuthPath, q, &tok).Status
		}
		tok, st := exchange(url.Values{"grant_type": {smartappmock.GrantAppToTPCode}, "code": {authorize("2001")}})
		if st != http.StatusOK {
			t.Fatalf("exchange: %d", st)
		}
		notGranted, _ := exchange(url.Values{"grant_type": {smartappmock.GrantAppToTPCode}, "code": {authorize("2002")}})
		appToken := f.token("key-granted", "s")

		tests := []struct {
			name string
			send func() response
			want outcome
		}{
			{"AuthorizerTokenOnSendByTP_Sends", func() response { return f.sendByTP(tok.AccessToken, text("user-1", "hi")) }, outcome{smartappmock.LayerBusiness, 0, "success"}},
			{"AppTokenOnSendByTP_110", func() response { return f.sendByTP(appToken, text("user-1", "hi")) }, outcome{smartappmock.LayerGateway, 110, "Access token invalid or no longer valid"}},
			{"AuthorizerTokenOnSend_110", func() response { return f.sendForm(tok.AccessToken, text("user-1", "hi")) }, outcome{smartappmock.LayerGateway, 110, "Access token invalid or no longer valid"}},
			{"NotGrantedPlatform_90002", func() response { return f.sendByTP(notGranted.AccessToken, text("user-2", "hi")) }, outcome{smartappmock.LayerBusiness, 90002, "请确认小程序已开通客服能力"}},
			{"SendByTPParametersChecked_3001", func() response {
				return f.sendByTP(tok.AccessToken, url.Values{"user_type": {"1"}, "open_id": {"user-1"}, "msg_type": {"image"}, "pic_ur": {"http://x/y.png"}})
			}, outcome{smartappmock.LayerBusiness, 3001, "请求参数有误"}},
		}
		for _, tt := range tests {
			if got := tt.send().outcome(t); got != tt.want {
				t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
			}
		}

		refreshed, st := exchange(url.Values{"grant_type": {smartappmock.GrantAppToTPRefresh}, "refresh_token": {tok.RefreshToken}})
		if st != http.StatusOK {
			t.Fatalf("first refresh: %d", st)
		}
		if _, st := exchange(url.Values{"grant_type": {smartappmock.GrantAppToTPRefresh}, "refresh_token": {tok.RefreshToken}}); st != http.StatusBadRequest {
			t.Errorf("second refresh with the same refresh token: %d, want 400", st)
		}
		if got := f.sendByTP(refreshed.AccessToken, text("user-1", "again")).outcome(t); got.Code != 0 {
			t.Errorf("send with the refreshed token: %+v", got)
		}
	})
}
