package mockservertest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/smartappmock/smartappmock/mockserver/mockservertest"
)

// A client that hard-codes https://openapi.baidu.com reaches the fake with the server's client.
// In a test, use mockservertest.New(t, cfg) instead of Start: it closes the fake when the test ends.
func ExampleServer_Client() {
	s, err := mockservertest.Start(mockservertest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	c := s.Client()

	resp, err := c.Get("https://openapi.baidu.com/oauth/2.0/token?grant_type=client_credentials&client_id=demo-client-id&client_secret=demo-client-secret")
	if err != nil {
		fmt.Println(err)
		return
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	form := url.Values{"user_type": {"1"}, "open_id": {"u1"}, "msg_type": {"text"}, "content": {"你好"}}
	resp, err = c.PostForm("https://openapi.baidu.com/rest/2.0/smartapp/message/custom/send?access_token="+tok.AccessToken, form)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, string(body))
	// Output: 200 OK {"errno":0,"msg":"success"}
}

// Faults are one magic open_id away (with the default configuration's magic values on): here a
// gateway's 503 page.
func ExampleServer_Client_fault() {
	s, err := mockservertest.Start(mockservertest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	form := url.Values{"user_type": {"1"}, "open_id": {"fault_http_503"}, "msg_type": {"text"}, "content": {"hi"}}
	resp, err := s.Client().PostForm("https://openapi.baidu.com/rest/2.0/smartapp/message/custom/send?access_token=any-sandbox-token", form)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"), strings.Contains(string(body), "<h1>503 Service Unavailable</h1>"))
	// Output: 503 Service Unavailable text/html true
}
