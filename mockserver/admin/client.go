package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
)

// Client is a typed client of a running fake's admin API: the contract kit and the command use it.
type Client struct {
	// BaseURL is the fake's base URL, e.g. http://127.0.0.1:8080.
	BaseURL string
	// Token is the admin token, when the fake requires one.
	Token string
	// HTTP is the client to use; nil means http.DefaultClient.
	HTTP *http.Client
}

// Error is an answer of the admin API that was not 200.
type Error struct {
	Method, Path string
	// Status is the HTTP status; Message the admin API's error text (or the body).
	Status  int
	Message string
}

// Error renders "admin API: GET /__admin/rules: HTTP 401: …".
func (e *Error) Error() string {
	msg := fmt.Sprintf("admin API: %s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Message)
	if e.Status == http.StatusUnauthorized {
		msg += " (the fake wants its admin token: pass --admin-token or SMARTAPPMOCK_ADMIN_TOKEN)"
	}
	return msg
}

// IsStatus reports whether err is an admin API answer with the status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// Do calls the admin API: in (if not nil) is sent as JSON, and a 200 answer is decoded into out
// (if not nil). Any other status is an *Error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("admin API: %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(data))
		var eb ErrorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
			msg = eb.Error
		}
		return &Error{Method: method, Path: path, Status: resp.StatusCode, Message: msg}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("admin API: %s %s: %w", method, path, err)
		}
	}
	return nil
}

// Health asks GET /__admin/health.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	return h, c.Do(ctx, http.MethodGet, Prefix+"/health", nil, &h)
}

// Ready asks GET /__admin/ready: nil when the fake's store answers.
func (c *Client) Ready(ctx context.Context) error {
	return c.Do(ctx, http.MethodGet, Prefix+"/ready", nil, nil)
}

// Rules returns the rules in force with their use counts.
func (c *Client) Rules(ctx context.Context) (RuleList, error) {
	var l RuleList
	return l, c.Do(ctx, http.MethodGet, Prefix+"/rules", nil, &l)
}

// PutRules replaces every rule.
func (c *Client) PutRules(ctx context.Context, rules []config.Rule) (RuleList, error) {
	var l RuleList
	if rules == nil {
		rules = []config.Rule{}
	}
	return l, c.Do(ctx, http.MethodPut, Prefix+"/rules", map[string][]config.Rule{"rules": rules}, &l)
}

// Faults returns the fault plans in force with their counts.
func (c *Client) Faults(ctx context.Context) (FaultList, error) {
	var l FaultList
	return l, c.Do(ctx, http.MethodGet, Prefix+"/faults", nil, &l)
}

// PutFaults replaces the top-level fault plans.
func (c *Client) PutFaults(ctx context.Context, faults []config.Fault) (FaultList, error) {
	var l FaultList
	if faults == nil {
		faults = []config.Fault{}
	}
	return l, c.Do(ctx, http.MethodPut, Prefix+"/faults", map[string][]config.Fault{"faults": faults}, &l)
}

// Apps lists every app with its state.
func (c *Client) Apps(ctx context.Context) (AppList, error) {
	var l AppList
	return l, c.Do(ctx, http.MethodGet, Prefix+"/apps", nil, &l)
}

// App returns one app's state.
func (c *Client) App(ctx context.Context, app string) (AppView, error) {
	var v AppView
	return v, c.Do(ctx, http.MethodGet, Prefix+"/apps/"+url.PathEscape(app), nil, &v)
}

// UserMessage says that a user wrote to the app: a fresh window.
func (c *Client) UserMessage(ctx context.Context, app, openID string) (AppView, error) {
	var v AppView
	return v, c.Do(ctx, http.MethodPost, Prefix+"/apps/"+url.PathEscape(app)+"/messages", UserMessage{OpenID: openID}, &v)
}

// ResetApp forgets an app's windows, counters, journal and clock.
func (c *Client) ResetApp(ctx context.Context, app string) (AppView, error) {
	var v AppView
	return v, c.Do(ctx, http.MethodPost, Prefix+"/apps/"+url.PathEscape(app)+"/reset", nil, &v)
}

// DeleteApp forgets a sandbox app: its state, journal and tokens.
func (c *Client) DeleteApp(ctx context.Context, app string) error {
	return c.Do(ctx, http.MethodDelete, Prefix+"/apps/"+url.PathEscape(app), nil, nil)
}

// Reset restores the configured state.
func (c *Client) Reset(ctx context.Context) error {
	return c.Do(ctx, http.MethodPost, Prefix+"/reset", nil, nil)
}

// Requests returns journal entries that match q, newest first (q.Limit 0: every entry held).
func (c *Client) Requests(ctx context.Context, q store.Query) ([]store.Entry, error) {
	v := url.Values{}
	for k, s := range map[string]string{"app": q.App, "open_id": q.OpenID, "outcome": q.Outcome, "endpoint": q.Endpoint} {
		if s != "" {
			v.Set(k, s)
		}
	}
	v.Set("limit", strconv.Itoa(q.Limit)) // 0: every entry held (the route's own default is 100)
	if q.Before > 0 {
		v.Set("before", strconv.FormatUint(q.Before, 10))
	}
	if q.After > 0 {
		v.Set("after", strconv.FormatUint(q.After, 10))
	}
	var r Requests
	path := Prefix + "/requests"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	return r.Requests, c.Do(ctx, http.MethodGet, path, nil, &r)
}
