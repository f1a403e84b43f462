package mockserver_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock"
)

// goSDKOutcome reads an answer the way Baidu's Go SDK reads it (openapi/*.go): decode into the
// response struct (a decoding error is the call's error), then a non-zero error_code is an
// *OpenAPIError and a non-zero errno an *APIError; anything else succeeds. It returns "ok", the
// error's kind and code, or the decoding error.
func goSDKOutcome(body []byte, resp any, errorCode, errno func() int64) string {
	if err := json.Unmarshal(body, resp); err != nil {
		return "decode: " + err.Error()
	}
	if c := errorCode(); c != 0 {
		return "OpenAPIError " + jsonNumber(c)
	}
	if e := errno(); e != 0 {
		return "APIError " + jsonNumber(e)
	}
	return "ok"
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }

// The Go SDK's response structs, as far as the answers go (field types as the SDK has them).
type (
	goSubscribeSendResponse struct {
		Data struct {
			MsgKey string `json:"msg_key"` // a string in the SDK; a number in Baidu's doc
		} `json:"data"`
		Errno     int64  `json:"errno"`
		ErrMsg    string `json:"msg"`
		ErrorCode int64  `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
	}
	goSendTemplateMessageResponse struct {
		Data struct {
			MsgKey int64 `json:"msg_key"`
		} `json:"data"`
		Errno     int64 `json:"errno"`
		ErrorCode int64 `json:"error_code"`
	}
	goCheckTextResponse struct {
		Data struct {
			Res []struct {
				Errno int64  `json:"errno"`
				Msg   string `json:"msg"`
				Type  string `json:"type"`
			} `json:"res"`
			RetrieveID string `json:"retrieveId"`
		} `json:"data"`
		Errno     int64 `json:"errno"`
		ErrorCode int64 `json:"error_code"`
	}
	goDetectRiskResponse struct {
		Data struct {
			Level string   `json:"level"`
			Tag   []string `json:"tag"`
		} `json:"data"`
		Errno     int64 `json:"errno"`
		ErrorCode int64 `json:"error_code"`
	}
)

// TestGoSDK_ReadsTheAnswers: the Go SDK's calls succeed and fail on the fake's answers as they
// would on Baidu's: SubscribeSend's success fails to decode (the SDK types msg_key as a string,
// Baidu documents a number: docs/subscribe-messages.md), its 4007 is an *APIError; the legacy
// SendTemplateMessage decodes msg_key; a risky CheckText is an *APIError 82512 whose data still
// decodes; DetectRisk reads level as a string; a bad token is an *OpenAPIError.
func TestGoSDK_ReadsTheAnswers(t *testing.T) {
	t.Parallel()
	f := newMsgFixture(t, msgConfig, nil)
	do := func(serve func() *httptest.ResponseRecorder) []byte { return serve().Body.Bytes() }
	rec := func(path, token string, fields [][2]string) func() *httptest.ResponseRecorder {
		return func() *httptest.ResponseRecorder {
			w := httptest.NewRecorder()
			f.s.ServeHTTP(w, goForm(path, token, fields))
			return w
		}
	}
	f.consent("3001", "user-a", "tpl-order", "sub-1")
	sc, err := f.s.NewScene(t.Context(), "3001", "user-a", 1, false)
	if err != nil {
		t.Fatal(err)
	}
	var sub goSubscribeSendResponse
	subOutcome := func(b []byte) string {
		sub = goSubscribeSendResponse{}
		return goSDKOutcome(b, &sub, func() int64 { return sub.ErrorCode }, func() int64 { return sub.Errno })
	}
	if got := subOutcome(do(rec(smartappmock.SubscribeSendPath, "tok-3001", subscribeFields("user-a", "tpl-order", "sub-1", orderData)))); !strings.Contains(got, "cannot unmarshal number into Go struct field") || !strings.Contains(got, "of type string") {
		t.Errorf("SubscribeSend success: %q, want the documented decoding failure of msg_key", got)
	}
	if got := subOutcome(do(rec(smartappmock.SubscribeSendPath, "tok-3001", subscribeFields("user-a", "tpl-order", "sub-1", orderData)))); got != "APIError 4007" {
		t.Errorf("SubscribeSend without consent: %q", got)
	}
	if got := subOutcome(do(rec(smartappmock.SubscribeSendPath, "nope", subscribeFields("user-a", "tpl-order", "sub-1", orderData)))); got != "OpenAPIError 110" {
		t.Errorf("SubscribeSend with a bad token: %q", got)
	}
	var tpl goSendTemplateMessageResponse
	got := goSDKOutcome(do(rec(smartappmock.TemplateSendPath, "tok-3001", [][2]string{{"template_id", "tpl-order"}, {"touser_openId", "user-a"},
		{"data", orderData}, {"page", ""}, {"scene_id", sc.ID}, {"scene_type", "1"}})), &tpl, func() int64 { return tpl.ErrorCode }, func() int64 { return tpl.Errno })
	if got != "ok" || tpl.Data.MsgKey <= 0 {
		t.Errorf("SendTemplateMessage: %q, msg_key %d", got, tpl.Data.MsgKey)
	}
	var ct goCheckTextResponse
	w := httptest.NewRecorder()
	f.s.ServeHTTP(w, jsonPost(smartappmock.CheckTextPath, "tok-3001", "application/json", `{"content":"代开发票","type":["risk","lead"]}`))
	if got := goSDKOutcome(w.Body.Bytes(), &ct, func() int64 { return ct.ErrorCode }, func() int64 { return ct.Errno }); got != "APIError 82512" || len(ct.Data.Res) != 2 || ct.Data.RetrieveID == "" {
		t.Errorf("CheckText of a risky text: %q, data %+v", got, ct.Data)
	}
	var dr goDetectRiskResponse
	got = goSDKOutcome(do(rec(smartappmock.DetectRiskPath, "tok-3001", [][2]string{{"appkey", "key-3001"}, {"xtoken", `{"key":"k","value":"v"}`},
		{"type", "marketing"}, {"clientip", "198.51.100.7"}, {"ts", "1764576000"}, {"ev", ""}, {"useragent", ""}, {"phone", ""}})), &dr,
		func() int64 { return dr.ErrorCode }, func() int64 { return dr.Errno })
	if got != "ok" || dr.Data.Level != "4" {
		t.Errorf("DetectRisk: %q, level %q", got, dr.Data.Level)
	}
}
