package admin

import (
	"context"
	"net/http"
	"net/url"

	"github.com/smartappmock/smartappmock/config"
)

// Push returns an app's push configuration (token and key redacted).
func (c *Client) Push(ctx context.Context, app string) (PushView, error) {
	var v PushView
	return v, c.Do(ctx, http.MethodGet, Prefix+"/apps/"+url.PathEscape(app)+"/push", nil, &v)
}

// PutPush sets an app's push configuration; the fake saves it only when the bot at its URL
// echoes the verification handshake (a refusal is an *Error with status 422 and the reason).
func (c *Client) PutPush(ctx context.Context, app string, p config.Push) (PushView, error) {
	var v PushView
	return v, c.Do(ctx, http.MethodPut, Prefix+"/apps/"+url.PathEscape(app)+"/push", p, &v)
}

// DeletePush switches push off for an app.
func (c *Client) DeletePush(ctx context.Context, app string) error {
	return c.Do(ctx, http.MethodDelete, Prefix+"/apps/"+url.PathEscape(app)+"/push", nil, nil)
}

// UserWrites says "user openID writes in": the window opens and, when the app has a push
// configuration, the message is pushed to the bot; the answer says what happened.
func (c *Client) UserWrites(ctx context.Context, app, openID string, in UserWrites) (UserWroteAnswer, error) {
	var a UserWroteAnswer
	return a, c.Do(ctx, http.MethodPost, Prefix+"/apps/"+url.PathEscape(app)+"/users/"+url.PathEscape(openID)+"/messages", in, &a)
}
