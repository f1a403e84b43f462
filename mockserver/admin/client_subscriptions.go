package admin

import (
	"context"
	"net/http"
	"net/url"

	"github.com/smartappmock/smartappmock/mockserver"
)

// Subscribe says "user openID consents to one subscribe message of a template": the next
// template/message/subscribe/send of that template and subscribe id to the user succeeds, once.
func (c *Client) Subscribe(ctx context.Context, app, openID string, in Consent) (mockserver.Subscribed, error) {
	var out mockserver.Subscribed
	return out, c.Do(ctx, http.MethodPost, Prefix+"/apps/"+url.PathEscape(app)+"/users/"+url.PathEscape(openID)+"/subscriptions", in, &out)
}

// Subscriptions lists the consents left of an app's user (openID ""): every user's).
func (c *Client) Subscriptions(ctx context.Context, app, openID string) (SubscriptionList, error) {
	var out SubscriptionList
	path := Prefix + "/apps/" + url.PathEscape(app) + "/subscriptions"
	if openID != "" {
		path = Prefix + "/apps/" + url.PathEscape(app) + "/users/" + url.PathEscape(openID) + "/subscriptions"
	}
	return out, c.Do(ctx, http.MethodGet, path, nil, &out)
}

// Unsubscribe cancels a consent (404 *Error when none is held).
func (c *Client) Unsubscribe(ctx context.Context, app, openID string, in Consent) error {
	q := url.Values{"template_id": {in.TemplateID}, "subscribe_id": {in.SubscribeID}}
	return c.Do(ctx, http.MethodDelete, Prefix+"/apps/"+url.PathEscape(app)+"/users/"+url.PathEscape(openID)+"/subscriptions?"+q.Encode(), nil, nil)
}

// NewScene makes a form submission or payment of a user, whose scene_id template/send takes.
func (c *Client) NewScene(ctx context.Context, app, openID string, in SceneInput) (mockserver.Scene, error) {
	var out mockserver.Scene
	return out, c.Do(ctx, http.MethodPost, Prefix+"/apps/"+url.PathEscape(app)+"/users/"+url.PathEscape(openID)+"/scenes", in, &out)
}
