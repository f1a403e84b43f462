package sandbox_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/mockserver/sandbox"
)

// The zero Options serve the embedded default: any client gets a token, and magic values trigger
// every outcome.
func ExampleNew() {
	srv, err := sandbox.New(mockserver.Options{}, admin.Options{})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	send := func(token, openID string) string {
		form := url.Values{"user_type": {"1"}, "open_id": {openID}, "msg_type": {"text"}, "content": {"你好"}}
		resp, err := http.Post(ts.URL+smartappmock.SendPath+"?access_token="+token, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	fmt.Println(send("any-token", "user-1"))
	fmt.Println(send("any-token", "errno_90002"))
	fmt.Println(send("error_code_111", "user-1"))
	// Output:
	// {"errno":0,"msg":"success"}
	// {"errno":90002,"msg":"请确认小程序已开通客服能力","data":{}}
	// {"error_code":111,"error_msg":"Access token expired"}
}
