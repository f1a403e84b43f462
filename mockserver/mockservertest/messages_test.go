package mockservertest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/mockservertest"
)

// TestOnBaiduHost_SubscribeAndCheck: a client that hard-codes https://openapi.baidu.com (Baidu's
// Go and PHP SDKs) reaches the subscribe message and the text check through the fake's proxy and
// CA, as it reaches the send.
func TestOnBaiduHost_SubscribeAndCheck(t *testing.T) {
	t.Parallel()
	srv := mockservertest.New(t, nil)
	c := srv.Client()
	if _, err := srv.Fake.Subscribe(t.Context(), "10001", mockserver.Subscription{OpenID: "u1", TemplateID: "tpl", SubscribeID: "s"}); err != nil {
		t.Fatal(err)
	}
	tok := func() string {
		res, err := c.Get("https://openapi.baidu.com/oauth/2.0/token?grant_type=client_credentials&client_id=demo-client-id&client_secret=demo-client-secret")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var tr smartappmock.TokenResponse
		if err := json.NewDecoder(res.Body).Decode(&tr); err != nil {
			t.Fatal(err)
		}
		return tr.AccessToken
	}()
	post := func(path, ct, body string) string {
		res, err := c.Post("https://openapi.baidu.com"+path+"?access_token="+url.QueryEscape(tok)+"&sp_sdk_ver=0.1.2&sp_sdk_lang=Go", ct, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	form := url.Values{"template_id": {"tpl"}, "touser_openId": {"u1"}, "subscribe_id": {"s"}, "data": {`{"k":{"value":"v"}}`}, "page": {""}}
	if got := post(smartappmock.SubscribeSendPath, "application/x-www-form-urlencoded", form.Encode()); got != `{"errno":0,"msg":"success","data":{"msg_key":1}}` {
		t.Errorf("subscribe message: %s", got)
	}
	if got := post(smartappmock.CheckTextPath, "application/json", `{"content":"加微信","type":["lead"]}`); !strings.HasPrefix(got, `{"errno":82512,"msg":"potential risk","data":`) {
		t.Errorf("text check: %s", got)
	}
	res, err := c.Post("https://openapi.baidu.com"+smartappmock.DetectRiskPath+"?access_token="+url.QueryEscape(tok), "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"appkey": {"demo-client-id"}, "xtoken": {`{"key":"k","value":"v"}`}, "type": {"marketing"}, "clientip": {"198.51.100.1"}, "ts": {"1"}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("detectrisk: HTTP %d", res.StatusCode)
	}
}
