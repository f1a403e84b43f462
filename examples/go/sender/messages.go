package sender

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Consent is a user's consent to one subscribe message: the template and the subscribe-id the
// user tapped "allow" for in the mini program.
type Consent struct {
	TemplateID, SubscribeID string
}

// Risky reports whether the answer is the text check's refusal: errno 82512, potential risk.
func (e *Error) Risky() bool { return !e.Gateway && e.Number == 82512 }

// Reply is a bot's reply path: with check, the text is checked first (CheckText) and a refused
// one is not sent; then it is sent as a customer-service message; when the window is closed
// (errno 90001) and the user consented to a subscribe message (consent not nil), that message is
// sent instead, once, with data as its keywords. It returns nil when the user was reached.
func (c *Client) Reply(ctx context.Context, m Message, check bool, consent *Consent, data map[string]string) error {
	if check && m.MsgType == "text" {
		if err := c.CheckText(ctx, m.Content); err != nil {
			return err
		}
	}
	err := c.Send(ctx, m)
	var apiErr *Error
	if consent == nil || !errors.As(err, &apiErr) || apiErr.Gateway || apiErr.Number != 90001 {
		return err
	}
	return c.SubscribeSend(ctx, m.OpenID, *consent, data, "")
}

// SubscribeSend sends a subscribe message to a user who consented to its template: the form
// Baidu's Go SDK sends (every field, page empty when not given). A consent carries one message:
// a second answers errno 4007.
func (c *Client) SubscribeSend(ctx context.Context, openID string, consent Consent, data map[string]string, page string) error {
	keywords := map[string]map[string]string{}
	for k, v := range data {
		keywords[k] = map[string]string{"value": v}
	}
	text, err := json.Marshal(keywords)
	if err != nil {
		return err
	}
	form := url.Values{"template_id": {consent.TemplateID}, "touser_openId": {openID}, "subscribe_id": {consent.SubscribeID},
		"data": {string(text)}, "page": {page}}
	return c.call(ctx, "/rest/2.0/smartapp/template/message/subscribe/send", "application/x-www-form-urlencoded", []byte(form.Encode()))
}

// CheckText checks a text for content violations (risk) and inducement (lead), as Baidu's Go
// SDK posts it (a JSON body): nil when it passed, an *Error whose Risky is true when it did not.
func (c *Client) CheckText(ctx context.Context, content string) error {
	body, err := json.Marshal(map[string]any{"content": content, "type": []string{"risk", "lead"}})
	if err != nil {
		return err
	}
	return c.call(ctx, "/rest/2.0/smartapp/riskDetection/v2/syncCheckText", "application/json", body)
}

// call posts body to path with the token in the query, refreshing the token once on 110/111,
// and reads the envelope: nil on errno 0.
func (c *Client) call(ctx context.Context, path, contentType string, body []byte) error {
	token, err := c.accessToken(ctx, false)
	if err != nil {
		return err
	}
	err = c.post(ctx, token, path, contentType, body)
	var apiErr *Error
	if errors.As(err, &apiErr) && apiErr.TokenExpired() {
		if token, err = c.accessToken(ctx, true); err != nil {
			return err
		}
		err = c.post(ctx, token, path, contentType, body)
	}
	return err
}

func (c *Client) post(ctx context.Context, token, path, contentType string, body []byte) error {
	u := c.base() + path + "?" + url.Values{"access_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	answer, err := c.do(req)
	if err != nil {
		return err
	}
	var env struct {
		Errno     *int   `json:"errno"`
		Msg       string `json:"msg"`
		ErrorCode *int   `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
	}
	if err := json.Unmarshal(answer, &env); err != nil {
		return fmt.Errorf("smartapp: unreadable answer: %w", err)
	}
	switch {
	case env.ErrorCode != nil:
		return &Error{Gateway: true, Number: *env.ErrorCode, Message: env.ErrorMsg}
	case env.Errno == nil:
		return fmt.Errorf("smartapp: answer has neither errno nor error_code: %.200s", strings.TrimSpace(string(answer)))
	case *env.Errno != 0:
		return &Error{Number: *env.Errno, Message: env.Msg}
	}
	return nil
}
