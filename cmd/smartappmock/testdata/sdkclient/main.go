// Command sdkclient calls Baidu's API the way Baidu's Go SDK does: https://openapi.baidu.com is
// hard-coded and the client is http.Client{Timeout: 3s} on http.DefaultTransport. It knows nothing
// of the fake; the test runs it with only HTTPS_PROXY and SSL_CERT_FILE set.
//
//	sdkclient OPEN_ID
//
// It prints the send's HTTP status and body, or the error.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

const base = "https://openapi.baidu.com"

func main() {
	if err := run(os.Args[1]); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

func run(openID string) error {
	c := &http.Client{Timeout: 3 * time.Second}
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-client-id"}, "client_secret": {"demo-client-secret"}, "scope": {"smartapp_snsapi_base"}}
	resp, err := c.Get(base + "/oauth/2.0/token?" + q.Encode())
	if err != nil {
		return err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil {
		return err
	}
	form := url.Values{"user_type": {"1"}, "open_id": {openID}, "msg_type": {"text"}, "content": {"hello from an unmodified client"}, "pic_url": {""}}
	resp, err = c.Post(base+"/rest/2.0/smartapp/message/custom/send?access_token="+url.QueryEscape(tok.AccessToken),
		"application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Println(resp.StatusCode, string(body))
	return nil
}
