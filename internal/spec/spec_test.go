package spec

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
)

func load(t *testing.T) *Spec {
	t.Helper()
	s, err := Load(smartappmock.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoad_ServersClearedAndRoutesOnAnyHost(t *testing.T) {
	s := load(t)
	if len(s.Document().Servers) != 0 {
		t.Errorf("servers = %v, want none (routing must work on loopback)", s.Document().Servers)
	}
	for _, host := range []string{"http://127.0.0.1:43210", "https://openapi.baidu.com", "http://[::1]:8080"} {
		op, _ := s.FindOperation(httptest.NewRequest(http.MethodPost, host+smartappmock.SendPath, nil))
		if op != OpSend {
			t.Errorf("%s: operation %q, want %q", host, op, OpSend)
		}
	}
}

// TestFindOperation_ThirdParty: the twin endpoint and the token endpoints Baidu's SDKs call exist;
// another method on them is a known path.
func TestFindOperation_ThirdParty(t *testing.T) {
	s := load(t)
	tests := []struct {
		method, path, want string
		known              bool
	}{
		{http.MethodPost, smartappmock.SendByTPPath, OpSendByTP, true},
		{http.MethodGet, smartappmock.TPTokenPath, OpTPToken, true},
		{http.MethodGet, smartappmock.PreAuthCodePath, OpPreAuthCode, true},
		{http.MethodGet, smartappmock.GetMsgPath, OpGetMsg, true},
		{http.MethodGet, smartappmock.TPOAuthPath, OpTPOAuth, true},
		{http.MethodGet, smartappmock.SendByTPPath, "", true},
		{http.MethodGet, "/rest/2.0/smartapp/tp/other", "", false},
	}
	for _, tt := range tests {
		op, known := s.FindOperation(httptest.NewRequest(tt.method, tt.path, nil))
		if op != tt.want || known != tt.known {
			t.Errorf("%s %s: operation %q (known %v), want %q (known %v)", tt.method, tt.path, op, known, tt.want, tt.known)
		}
	}
}

func TestLoad_RejectsBrokenDocuments(t *testing.T) {
	base := string(smartappmock.OpenAPI())
	tests := []struct{ name, doc, want string }{
		{"NotYAML", "openapi: [", "openapi:"},
		{"NoCatalogue", strings.Replace(base, "x-smartapp-codes:", "x-other:", 1), "x-smartapp-codes is missing"},
		{"NoSendOperation", strings.Replace(base, "operationId: sendCustomMessage\n", "operationId: other\n", 1), `operation "sendCustomMessage" is missing`},
		{"NoSendByTPOperation", strings.Replace(base, "operationId: sendCustomMessageByTP", "operationId: other", 1), `operation "sendCustomMessageByTP" is missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCatalogue(t *testing.T) {
	c := load(t).Catalogue()
	tests := []struct {
		got, want string
	}{
		{must(c.BusinessMessage(0)), "success"},
		{must(c.BusinessMessage(3001)), "请求参数有误"},
		{must(c.BusinessMessage(30022)), "不合法的 OpenID"},
		{must(c.BusinessMessage(90001)), "客服接口下行条数超过上限"},
		{must(c.BusinessMessage(90002)), "请确认小程序已开通客服能力"},
		{must(c.GatewayMessage(110)), "Access token invalid or no longer valid"},
		{must(c.GatewayMessage(111)), "Access token expired"},
		{must(c.GatewayMessage(17)), "Open api daily request limit reached"},
		{must(c.GatewayMessage(18)), "Open api qps request limit reached"},
		{must(c.GatewayMessage(100)), "Invalid parameter"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("message %q, want %q", tt.got, tt.want)
		}
	}
	for _, b := range c.Business {
		if b.Errno != 0 && strings.Contains(strings.ToLower(b.Message), "success") {
			t.Errorf("errno %d message %q contains 'success': clients that grep for it would be fooled", b.Errno, b.Message)
		}
	}
	for _, g := range c.Gateway {
		if strings.Contains(strings.ToLower(g.Message), "success") {
			t.Errorf("error_code %d message contains 'success'", g.Code)
		}
	}
}

func must(s string, ok bool) string {
	if !ok {
		return "<missing>"
	}
	return s
}

func TestCheckRequest(t *testing.T) {
	s := load(t)
	const form = "user_type=1&open_id=u&msg_type=text&content=hi&pic_url="
	tests := []struct {
		name, query, contentType, body string
		want                           []Violation
	}{
		{"Valid_Form", "access_token=t", "application/x-www-form-urlencoded", form, nil},
		{"Valid_FormTrailingSemicolon", "access_token=t", "application/x-www-form-urlencoded;", form, nil},
		{"Valid_TokenInBody", "", "application/x-www-form-urlencoded", "access_token=t&" + form, nil},
		{"JSONBody", "access_token=t", "application/json", `{"open_id":"u"}`, []Violation{{Where: "body", Reason: `header Content-Type has unexpected value "application/json"`}}},
		{"MissingOpenID", "access_token=t", "application/x-www-form-urlencoded", "user_type=1&msg_type=text&content=hi", []Violation{{Where: "body", Field: "open_id", Reason: "required but missing"}}},
		{"TextWithoutContent", "access_token=t", "application/x-www-form-urlencoded", "user_type=1&open_id=u&msg_type=text", []Violation{{Where: "body", Field: "content", Reason: "required when msg_type is text"}}},
		{"BadUserType", "access_token=t", "application/x-www-form-urlencoded", "user_type=7&open_id=u&msg_type=text&content=x", []Violation{{Where: "body", Field: "user_type", Reason: "must be one of 1|2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?"+tt.query, nil)
			req.Header.Set("Content-Type", tt.contentType)
			got := s.CheckRequest(req, []byte(tt.body))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CheckRequest mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckResponse(t *testing.T) {
	s := load(t)
	send := httptest.NewRequest(http.MethodPost, smartappmock.SendPath, nil)
	token := httptest.NewRequest(http.MethodGet, smartappmock.TokenPath, nil)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	oauthHeader := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}
	tests := []struct {
		name   string
		req    *http.Request
		status int
		header http.Header
		body   string
		valid  bool
	}{
		{"Business_OK", send, 200, jsonHeader, `{"errno":0,"msg":"success"}`, true},
		{"Gateway_OK", send, 200, jsonHeader, `{"error_code":110,"error_msg":"Access token invalid or no longer valid"}`, true},
		{"Bad_ErrnoAsString", send, 200, jsonHeader, `{"errno":"0","msg":"success"}`, false},
		{"Bad_BothEnvelopes", send, 200, jsonHeader, `{"errno":0,"msg":"success","error_code":110,"error_msg":"x"}`, false},
		{"Bad_Status500", send, 500, jsonHeader, `{"errno":0,"msg":"success"}`, false},
		{"Bad_NotJSON", send, 200, http.Header{"Content-Type": {"text/html"}}, `<html>`, false},
		{"Token_OK", token, 200, jsonHeader, `{"access_token":"24.0123456789abcdef0123456789abcdef.2592000.1.282335-1","expires_in":2592000,"refresh_token":"25.0123456789abcdef0123456789abcdef.315360000.1.282335-1","scope":"s"}`, true},
		{"Token_BadShape", token, 200, jsonHeader, `{"access_token":"abc","expires_in":2592000,"refresh_token":"def","scope":"s"}`, false},
		{"OAuthError_OK", token, 400, oauthHeader, `{"error":"invalid_client","error_description":"unknown client id"}`, true},
		{"OAuthError_NoCacheControl", token, 400, jsonHeader, `{"error":"invalid_client","error_description":"unknown client id"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := s.CheckResponse(tt.req, tt.status, tt.header, []byte(tt.body))
			if (len(vs) == 0) != tt.valid {
				t.Errorf("violations = %v, want valid=%v", vs, tt.valid)
			}
			for _, v := range vs {
				if v.Reason == "" || len(v.String()) > 2000 {
					t.Errorf("violation without a short reason: %q", v.String())
				}
			}
		})
	}
}
