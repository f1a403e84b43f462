package sandbox

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// TestParameterEncodings sends the same message the ways real clients do (BAIDU-API.md, "How
// clients send them") and checks the fake merges query and body as the real service does.
func TestParameterEncodings(t *testing.T) {
	t.Parallel()
	const form = "user_type=1&open_id=user-a&msg_type=text&content=%E4%BD%A0%E5%A5%BD&pic_url="
	mpType, mpBody := multipartBody(t, [][2]string{{"user_type", "1"}, {"open_id", "user-a"}, {"msg_type", "text"}, {"content", "你好"}, {"pic_url", ""}})
	tests := []struct {
		name        string
		query       string
		contentType string
		body        string
		lenient     bool
		want        outcome
		wantReason  string
	}{
		{name: "Documented_TokenInQuery_FormBody", query: "access_token=static-token-a", contentType: "application/x-www-form-urlencoded", body: form, want: okMsg},
		{name: "PHPSDK_TrailingSemicolon", query: "access_token=static-token-a", contentType: "application/x-www-form-urlencoded;", body: form, want: okMsg},
		{name: "JavaSDK_CharsetAndTokenInBody", contentType: "application/x-www-form-urlencoded;charset=UTF-8", body: "access_token=static-token-a&" + form, want: okMsg},
		{name: "FAQ_MultipartFormData", query: "access_token=static-token-a", contentType: mpType, body: string(mpBody), want: okMsg},
		{name: "SDKExtrasIgnored", query: "access_token=static-token-a&sp_sdk_ver=1.0.0&sp_sdk_lang=go", contentType: "application/x-www-form-urlencoded", body: form + "&sdk.version=2.1&sdk.type=php", want: okMsg},
		{name: "EmptyContentWithImage", query: "access_token=static-token-a", contentType: "application/x-www-form-urlencoded", body: "user_type=2&open_id=user-a&msg_type=image&content=&pic_url=https%3A%2F%2Fimg.example%2Fa.png", want: okMsg},
		{name: "CSharpThirdParty_AllInQuery_JSONBody", query: "access_token=static-token-a&user_type=1&open_id=user-a&msg_type=text&content=hi", contentType: "application/json", body: `{"user_type":1,"open_id":"user-a","msg_type":"text","content":"hi"}`, want: okMsg},
		{name: "JSONOnlyBody_IsNotASource", query: "access_token=static-token-a", contentType: "application/json", body: `{"user_type":1,"open_id":"user-a","msg_type":"text","content":"hi"}`, want: errInvalid, wantReason: "application/json is not a source of parameters"},
		{name: "FormLabelledJSON_StrictIgnoresBody", contentType: "application/json", body: "access_token=static-token-a&" + form, want: errNoToken},
		{name: "FormLabelledJSON_LenientReadsBody", contentType: "application/json", body: "access_token=static-token-a&" + form, lenient: true, want: okMsg},
		{name: "NoContentType_BodyIgnored", query: "access_token=static-token-a", body: form, want: errInvalid, wantReason: "no Content-Type"},
		{name: "TextPlain_BodyIgnored", query: "access_token=static-token-a", contentType: "text/plain", body: form, want: errInvalid, wantReason: "text/plain is not a form"},
		{name: "BodyWinsOverQuery", query: "access_token=static-token-a&open_id=user-of-b", contentType: "application/x-www-form-urlencoded", body: form, want: okMsg},
		{name: "DuplicateParameter_FirstWins", query: "access_token=static-token-a", contentType: "application/x-www-form-urlencoded", body: form + "&open_id=user-of-b", want: okMsg},
		{name: "BadPercentEscape_Reported", query: "access_token=static-token-a", contentType: "application/x-www-form-urlencoded", body: "user_type=1&open_id=%zz&msg_type=text&content=hi", want: errInvalid, wantReason: "invalid URL escape"},
		{name: "MultipartWithoutBoundary", query: "access_token=static-token-a", contentType: "multipart/form-data", body: string(mpBody), want: errInvalid, wantReason: "no boundary"},
		{name: "TokenInBodyOnly_Form", contentType: "application/x-www-form-urlencoded", body: "access_token=static-token-a&" + form, want: okMsg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := configtest.Strict
			if tt.lenient {
				cfg = strings.Replace(configtest.Strict, "magic_values: true", "magic_values: true\n  lenient_json: true", 1)
			}
			f := setup(t, cfg)
			target := smartappmock.SendPath
			if tt.query != "" {
				target += "?" + tt.query
			}
			req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			res := f.do(req)
			if diff := cmp.Diff(tt.want, res.outcome(t)); diff != "" {
				t.Errorf("outcome mismatch (-want +got):\n%s\nreason: %s", diff, res.Header.Get(smartappmock.HeaderReason))
			}
			if got := res.Header.Get(smartappmock.HeaderReason); !strings.Contains(got, tt.wantReason) {
				t.Errorf("reason = %q, want it to contain %q", got, tt.wantReason)
			}
		})
	}
}

func TestJournalRecordsSources(t *testing.T) {
	t.Parallel()
	f := setup(t, "")
	req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=static-token-a&open_id=from-query&sp_sdk_ver=1",
		strings.NewReader("user_type=1&open_id=user-a&msg_type=text&content=hi"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;")
	f.do(req)
	es := f.journal(store.Query{App: "1001"})
	if len(es) != 1 {
		t.Fatalf("journal has %d entries, want 1", len(es))
	}
	e := es[0]
	want := []store.Param{
		{Name: "access_token", Value: mockserver.RedactToken("static-token-a"), Source: "query", Used: true},
		{Name: "open_id", Value: "from-query", Source: "query", Used: false},
		{Name: "sp_sdk_ver", Value: "1", Source: "query", Used: true},
		{Name: "user_type", Value: "1", Source: "body", Used: true},
		{Name: "open_id", Value: "user-a", Source: "body", Used: true},
		{Name: "msg_type", Value: "text", Source: "body", Used: true},
		{Name: "content", Value: "hi", Source: "body", Used: true},
	}
	if diff := cmp.Diff(want, e.Params); diff != "" {
		t.Errorf("params mismatch (-want +got):\n%s", diff)
	}
	if strings.Contains(e.Token, "static-token-a") {
		t.Errorf("journal token not redacted: %q", e.Token)
	}
	if e.OpenID != "user-a" || e.App != "1001" || e.Outcome() != "business 0" || e.ContentType != "application/x-www-form-urlencoded;" || e.ID == "" {
		t.Errorf("entry = %+v", e)
	}
}
