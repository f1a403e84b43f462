// Package sender is a small, complete client of Baidu's Smart Mini Program "send customer-service
// message" API (发送客服消息), written with net/http only. Copy it into your project.
//
// It fetches an access token from /oauth/2.0/token and keeps it until shortly before it expires,
// sends each message as a form (token in the query string, as Baidu documents), reads both answer
// envelopes, and on error_code 110 or 111 fetches a new token and retries once. It does not retry
// anything else: a business error is final, and retrying a send after a transport failure may
// deliver the message twice and use up the user's five replies.
package sender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultBaseURL is where the real service answers.
const DefaultBaseURL = "https://openapi.baidu.com"

// Client sends customer-service messages for one mini program. It is safe for concurrent use.
type Client struct {
	// BaseURL replaces DefaultBaseURL, e.g. for a fake; empty means DefaultBaseURL.
	BaseURL string
	// ClientID and ClientSecret are the mini program's App Key and App Secret.
	ClientID     string
	ClientSecret string
	// HTTP is the HTTP client; nil means one with a 3-second timeout, like Baidu's Go SDK.
	HTTP *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

// New returns a Client for baseURL ("" for the real service).
func New(baseURL, clientID, clientSecret string) *Client {
	return &Client{BaseURL: baseURL, ClientID: clientID, ClientSecret: clientSecret}
}

// Message is one message to a user.
type Message struct {
	// UserType is 1 for a guest, 2 for a Baidu account.
	UserType int
	// OpenID is the user.
	OpenID string
	// MsgType is "text" or "image".
	MsgType string
	// Content is the text of a text message.
	Content string
	// PicURL is the image link of an image message.
	PicURL string
}

// Error is an answer of the service that is not success: a business errno (3001, 30022, 90001,
// 90002) or a gateway error_code (110, 111, 17, 18, …).
type Error struct {
	// Gateway is true for {"error_code":N,...}, false for {"errno":N,...}.
	Gateway bool
	// Number is the errno or error_code.
	Number int
	// Message is the service's msg or error_msg.
	Message string
}

// Error renders the answer, e.g. "smartapp: errno 90001: 客服接口下行条数超过上限".
func (e *Error) Error() string {
	kind := "errno"
	if e.Gateway {
		kind = "error_code"
	}
	return fmt.Sprintf("smartapp: %s %d: %s", kind, e.Number, e.Message)
}

// Code returns the errno or error_code.
func (e *Error) Code() int { return e.Number }

// TokenExpired reports whether the answer says the access token is invalid (110) or expired (111).
func (e *Error) TokenExpired() bool { return e.Gateway && (e.Number == 110 || e.Number == 111) }

// Token returns the cached access token and when the client will renew it, so that a program that
// runs once per message can keep it between runs ("", zero time when there is none).
func (c *Client) Token() (string, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token, c.expires
}

// SetToken seeds the cache with a token saved by an earlier run; it is used until renewAt.
func (c *Client) SetToken(token string, renewAt time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token, c.expires = token, renewAt
}

func (c *Client) base() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 3 * time.Second}
}

// Send delivers m. It returns nil only when the service answered errno 0; an *Error for any other
// answer; another error for a transport failure (timeout, HTTP status, unreadable body).
func (c *Client) Send(ctx context.Context, m Message) error {
	token, err := c.accessToken(ctx, false)
	if err != nil {
		return err
	}
	err = c.send(ctx, token, m)
	var apiErr *Error
	if errors.As(err, &apiErr) && apiErr.TokenExpired() {
		if token, err = c.accessToken(ctx, true); err != nil {
			return err
		}
		err = c.send(ctx, token, m)
	}
	return err
}

func (c *Client) send(ctx context.Context, token string, m Message) error {
	form := url.Values{
		"user_type": {strconv.Itoa(m.UserType)},
		"open_id":   {m.OpenID},
		"msg_type":  {m.MsgType},
	}
	if m.MsgType == "image" {
		form.Set("pic_url", m.PicURL)
	} else {
		form.Set("content", m.Content)
	}
	u := c.base() + "/rest/2.0/smartapp/message/custom/send?" + url.Values{"access_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	body, err := c.do(req)
	if err != nil {
		return err
	}
	var env struct {
		Errno     *int   `json:"errno"`
		Msg       string `json:"msg"`
		ErrorCode *int   `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("smartapp: unreadable answer: %w", err)
	}
	switch {
	case env.ErrorCode != nil:
		return &Error{Gateway: true, Number: *env.ErrorCode, Message: env.ErrorMsg}
	case env.Errno == nil:
		return fmt.Errorf("smartapp: answer has neither errno nor error_code: %.200s", body)
	case *env.Errno != 0:
		return &Error{Number: *env.Errno, Message: env.Msg}
	}
	return nil
}

// do sends req and returns the body of a 200 answer.
func (c *Client) do(req *http.Request) ([]byte, error) {
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("smartapp: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("smartapp: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("smartapp: HTTP %d from %s: %.200s", resp.StatusCode, req.URL.Path, body)
	}
	return body, nil
}

// accessToken returns the cached token, or fetches one when there is none, it is about to expire,
// or refresh is set.
func (c *Client) accessToken(ctx context.Context, refresh bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !refresh && c.token != "" && time.Now().Before(c.expires) {
		return c.token, nil
	}
	q := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.ClientID},
		"client_secret": {c.ClientSecret},
		"scope":         {"smartapp_snsapi_base"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base()+"/oauth/2.0/token?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return "", fmt.Errorf("smartapp: token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("smartapp: token: %w", err)
	}
	var tok struct {
		AccessToken      string `json:"access_token"`
		ExpiresIn        int    `json:"expires_in"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		return "", fmt.Errorf("smartapp: token: HTTP %d, unreadable answer: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return "", fmt.Errorf("smartapp: token: HTTP %d: %s: %s", resp.StatusCode, tok.Error, tok.ErrorDescription)
	}
	c.token = tok.AccessToken
	// Renew a minute early so that a token never expires in flight.
	c.expires = time.Now().Add(time.Duration(tok.ExpiresIn)*time.Second - time.Minute)
	return c.token, nil
}
