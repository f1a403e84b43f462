package mockserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
)

// Subscribe messages (template/message/subscribe/send): a user consents, in the mini program's
// subscribe panel, to one message of a template under a subscribe-id; the app's server may then
// send that one message, at any time (no window). Repeated consents to the same template and
// subscribe-id do not add up. Here a consent is a store record of kind "subscription", keyed by
// (open_id, template_id, subscribe_id) under the app: Subscribe puts it (the admin API's
// POST /__admin/apps/{app}/users/{open_id}/subscriptions, or apps[].subscriptions at start), and
// the send takes it (store.TakeRecord: of two concurrent sends exactly one gets it).

// The journal's endpoints of the template messages and of a consent.
const (
	endpointSubscribeSend = "subscribe_send"
	endpointTemplateSend  = "template_send"
	// EndpointSubscription is the journal's endpoint of a user's consent to a subscribe message,
	// or its cancellation (made by the admin API).
	EndpointSubscription = "subscription"
)

const (
	recordSubscription = "subscription"
	recordScene        = "scene"
	// maxMessageID bounds an open_id, template_id or subscribe_id of a consent or scene.
	maxMessageID = 256
)

// Subscription is a user's consent to one subscribe message of a template.
type Subscription struct {
	// OpenID is the user's; TemplateID the app's template; SubscribeID the scene of the consent.
	OpenID      string `json:"open_id"`
	TemplateID  string `json:"template_id"`
	SubscribeID string `json:"subscribe_id"`
	// At is when the user consented (the app's clock; the start for a configured one).
	At time.Time `json:"at"`
	// Source is "config" (apps[].subscriptions) or "admin".
	Source string `json:"source"`
}

// subscriptionID is the record id of a consent: its three ids, each path-escaped, joined by '/'
// (so the consents of one open_id sort together, after subscriptionPrefix).
func subscriptionID(openID, templateID, subscribeID string) string {
	return subscriptionPrefix(openID) + url.PathEscape(templateID) + "/" + url.PathEscape(subscribeID)
}

func subscriptionPrefix(openID string) string { return url.PathEscape(openID) + "/" }

// Subscribed is what Subscribe did.
type Subscribed struct {
	Subscription
	// Created is false when the same consent was held already: consents do not add up.
	Created bool `json:"created"`
	// Warnings say how the fake was more lenient than Baidu (a template the app does not list).
	Warnings []store.Warning `json:"warnings,omitempty"`
}

// Subscribe records that a user of app consented to one subscribe message of a template under a
// subscribe id, and journals it (EndpointSubscription). A consent that is held already stays one
// (Created false). Its errors are *Error: ErrNotFound (no such app), ErrInvalid (an empty or too
// long id, a template the app does not have, an open_id of another mini program), ErrStore.
func (s *Server) Subscribe(ctx context.Context, app string, sub Subscription) (Subscribed, error) {
	a, found, err := s.store.App(ctx, app)
	if err != nil {
		return Subscribed{}, storeFailed(err)
	}
	if !found {
		return Subscribed{}, &Error{Code: ErrNotFound, Message: fmt.Sprintf("unknown app %q", app)}
	}
	for name, v := range map[string]string{"open_id": sub.OpenID, "template_id": sub.TemplateID, "subscribe_id": sub.SubscribeID} {
		if v == "" || len(v) > maxMessageID {
			return Subscribed{}, invalid("%s: want 1 to %d bytes, got %d", name, maxMessageID, len(v))
		}
	}
	out := Subscribed{}
	ok, listed := s.apps[a.ID].HasTemplate(sub.TemplateID, s.cfg.Policy.Templates)
	if !ok {
		return Subscribed{}, invalid("%s", reasonTemplateUnknown(sub.TemplateID, a.ID))
	}
	if !listed {
		out.Warnings = append(out.Warnings, WarnUnlistedTemplate.Warning())
	}
	if v, refused := s.unknownOpenID(a.ID, sub.OpenID); refused {
		return Subscribed{}, invalid("%s", v.Reason)
	}
	issued, err := s.issuedOpenID(ctx, a.ID, sub.OpenID) // users.go: policy.open_ids
	if err != nil {
		return Subscribed{}, storeFailed(err)
	}
	if issued.refused {
		return Subscribed{}, invalid("%s", issued.d.Reason)
	}
	if issued.warn {
		out.Warnings = append(out.Warnings, WarnUnissuedOpenID.Warning())
	}
	now, err := store.AppNow(ctx, s.store, a, s.now())
	if err != nil {
		return Subscribed{}, storeFailed(err)
	}
	id := subscriptionID(sub.OpenID, sub.TemplateID, sub.SubscribeID)
	reason := "the user consented to one message of template " + strconv.Quote(sub.TemplateID) + " under subscribe_id " + strconv.Quote(sub.SubscribeID)
	sub.At, sub.Source = now, "admin"
	// AddRecord: of concurrent consents one stores it; the others find it held.
	added, err := s.store.AddRecord(ctx, a.ID, store.Record{Kind: recordSubscription, ID: id, Data: mustJSON(sub)})
	switch {
	case errors.Is(err, store.ErrRecordsFull):
		return Subscribed{}, invalid("app %s holds too many records: %v", a.ID, err)
	case err != nil:
		return Subscribed{}, storeFailed(err)
	case added:
		out.Subscription, out.Created = sub, true
	default:
		rec, held, err := s.store.Record(ctx, a.ID, recordSubscription, id)
		if err != nil {
			return Subscribed{}, storeFailed(err)
		}
		out.Subscription = sub
		if held { // else the consent was used between the two calls: this one was not stored
			if err := json.Unmarshal(rec.Data, &out.Subscription); err != nil {
				return Subscribed{}, storeFailed(fmt.Errorf("the consent %s: %w", id, err))
			}
		}
		reason = "the user consented again to template " + strconv.Quote(sub.TemplateID) + " under subscribe_id " + strconv.Quote(sub.SubscribeID) + ": consents do not add up, still one message"
	}
	s.journalConsent(ctx, a.ID, now, sub, reason, out.Warnings)
	return out, nil
}

// Unsubscribe cancels a user's consent (swan.subscribeService type cancel): the next send of
// that template and subscribe id answers 4007. It reports whether a consent was held.
func (s *Server) Unsubscribe(ctx context.Context, app string, sub Subscription) (bool, error) {
	a, found, err := s.store.App(ctx, app)
	if err != nil {
		return false, storeFailed(err)
	}
	if !found {
		return false, &Error{Code: ErrNotFound, Message: fmt.Sprintf("unknown app %q", app)}
	}
	if sub.OpenID == "" || sub.TemplateID == "" || sub.SubscribeID == "" {
		return false, invalid("open_id, template_id and subscribe_id: all three are needed")
	}
	_, held, err := s.store.TakeRecord(ctx, a.ID, recordSubscription, subscriptionID(sub.OpenID, sub.TemplateID, sub.SubscribeID))
	if err != nil {
		return false, storeFailed(err)
	}
	now, err := store.AppNow(ctx, s.store, a, s.now())
	if err != nil {
		return held, storeFailed(err)
	}
	reason := "the user cancelled the consent to template " + strconv.Quote(sub.TemplateID) + " under subscribe_id " + strconv.Quote(sub.SubscribeID)
	if !held {
		reason += " (none was held)"
	}
	s.journalConsent(ctx, a.ID, now, sub, reason, nil)
	return held, nil
}

// journalConsent journals a consent or its cancellation, as the user's action.
func (s *Server) journalConsent(ctx context.Context, app string, now time.Time, sub Subscription, reason string, warnings []store.Warning) {
	e := store.Entry{ID: s.newID(), Time: s.now(), AppTime: now, App: app, Endpoint: EndpointSubscription, Method: http.MethodPost,
		Path: "(consent)", OpenID: sub.OpenID, Layer: smartappmock.LayerBusiness, Status: http.StatusOK, Reason: reason, Warnings: warnings,
		Params: []store.Param{bodyParam("template_id", sub.TemplateID), bodyParam("subscribe_id", sub.SubscribeID)}}
	if _, err := s.Record(ctx, e); err != nil {
		s.log.Error("journal append failed", "id", e.ID, "err", err)
	}
}

// Subscriptions lists the consents held by app's users (openID "": every user), sorted by
// open_id, template and subscribe id.
func (s *Server) Subscriptions(ctx context.Context, app, openID string) ([]Subscription, error) {
	if _, found, err := s.store.App(ctx, app); err != nil {
		return nil, storeFailed(err)
	} else if !found {
		return nil, &Error{Code: ErrNotFound, Message: fmt.Sprintf("unknown app %q", app)}
	}
	prefix, after := "", ""
	if openID != "" {
		prefix = subscriptionPrefix(openID)
		after = prefix
	}
	out := []Subscription{}
	for {
		recs, err := s.store.Records(ctx, app, recordSubscription, after, 200)
		if err != nil {
			return nil, storeFailed(err)
		}
		for _, r := range recs {
			if !strings.HasPrefix(r.ID, prefix) {
				return out, nil
			}
			var sub Subscription
			if err := json.Unmarshal(r.Data, &sub); err != nil {
				return nil, storeFailed(fmt.Errorf("the consent %s: %w", r.ID, err))
			}
			out = append(out, sub)
		}
		if len(recs) < 200 {
			return out, nil
		}
		after = recs[len(recs)-1].ID
	}
}

// seedSubscriptions are the configured consents, as records.
func seedSubscriptions(a config.App, at time.Time) []store.SeedRecord {
	var out []store.SeedRecord
	for _, c := range a.Subscriptions {
		sub := Subscription{OpenID: c.OpenID, TemplateID: c.TemplateID, SubscribeID: c.SubscribeID, At: at, Source: "config"}
		out = append(out, store.SeedRecord{App: a.ID, Record: store.Record{Kind: recordSubscription,
			ID: subscriptionID(c.OpenID, c.TemplateID, c.SubscribeID), Data: mustJSON(sub)}})
	}
	return out
}

// subscribeSendEndpoint is SubscribeSendPath: a call of the pipeline beside the send (call.go),
// its limits counted per endpoint.
var subscribeSendEndpoint = &endpoint{name: endpointSubscribeSend, limits: true, invalid: templateInvalid,
	read: func(c *call, in *send) endpointCall {
		sc := &subscribeCall{templateID: c.get("template_id"), openID: c.get("touser_openId"), subscribeID: c.get("subscribe_id"), data: c.get("data")}
		in.openID, in.content, c.magic = sc.openID, sc.data, sc.openID
		return sc
	}}

// templateInvalid is a template message's answer to a parameter error: 2002.
func templateInvalid(c *call, reason string) reply {
	return c.envelopeReply(business(smartappmock.ErrnoTemplateParam, reason), nil)
}

// subscribeCall is a send of a subscribe message. Its decision, after the gateway layer and
// openapi.yaml's SubscribeSendForm (2002):
//
//  1. data a JSON object of {"value": …} (2002);
//  2. a magic touser_openId errno_<N> of the template table (N);
//  3. an open_id the app does not know (4010): another mini program's, not in apps[].open_ids,
//     or, under policy.open_ids issued, not one of the app's users (under any: a warning);
//  4. a template the app does not have (4001; any, with a warning, when it lists none);
//  5. the consent, taken (4007 when none is left); success with a message key.
type subscribeCall struct {
	templateID, openID, subscribeID string
	data                            string
}

func (sc *subscribeCall) decide(ctx context.Context, c *call, app store.App, _ time.Time) (reply, error) {
	d, out, err := sc.decision(ctx, c.s, app)
	if err != nil {
		return reply{}, err
	}
	return c.envelopeReply(d, out), nil
}

func (sc *subscribeCall) decision(ctx context.Context, s *Server, app store.App) (Decision, []byte, error) {
	if reason := checkTemplateData(sc.data); reason != "" {
		return business(smartappmock.ErrnoTemplateParam, reason), nil, nil
	}
	if v, ok := s.magicErrno("touser_openId", sc.openID, s.knownTemplateErrno); ok {
		return v, nil, nil
	}
	if v, refused := s.unknownOpenID(app.ID, sc.openID); refused {
		return business(smartappmock.ErrnoTemplateOpenID, strings.Replace(v.Reason, "open_id", "touser_openId", 1)), nil, nil
	}
	issued, err := s.issuedOpenID(ctx, app.ID, sc.openID) // users.go: policy.open_ids
	if err != nil {
		return Decision{}, nil, err
	}
	if issued.refused {
		return business(smartappmock.ErrnoTemplateOpenID, strings.Replace(issued.d.Reason, "open_id", "touser_openId", 1)), nil, nil
	}
	var warnings []store.Warning
	if issued.warn {
		warnings = []store.Warning{WarnUnissuedOpenID.Warning()}
	}
	if ok, listed := s.apps[app.ID].HasTemplate(sc.templateID, s.cfg.Policy.Templates); !ok {
		return business(smartappmock.ErrnoTemplateID, reasonTemplateUnknown(sc.templateID, app.ID)), nil, nil
	} else if !listed {
		warnings = append(warnings, WarnUnlistedTemplate.Warning())
	}
	rec, held, err := s.store.TakeRecord(ctx, app.ID, recordSubscription, subscriptionID(sc.openID, sc.templateID, sc.subscribeID))
	if err != nil {
		return Decision{}, nil, err
	}
	if !held {
		v := business(smartappmock.ErrnoNotSubscribed, reasonNotSubscribed(sc.openID, sc.templateID, sc.subscribeID))
		v.Warnings = warnings
		return v, nil, nil
	}
	key, err := s.msgKey(ctx, app.ID)
	if err != nil {
		// The message is not sent (the client is told error_code 2): the consent stays the user's.
		_ = s.store.PutRecord(ctx, app.ID, rec)
		return Decision{}, nil, err
	}
	v := business(smartappmock.ErrnoOK, "consent used: template "+strconv.Quote(sc.templateID)+", subscribe_id "+strconv.Quote(sc.subscribeID)+"; msg_key "+strconv.FormatInt(key, 10))
	v.Warnings = warnings
	return v, msgKeyBody(key), nil
}

// knownTemplateErrno reports whether n is an errno of the template messages' table.
func (s *Server) knownTemplateErrno(n int) bool {
	_, ok := s.spec.Catalogue().TemplateMessage(n)
	return ok
}

// msgKey draws the next message key of app (the store's counter: unique across replicas).
func (s *Server) msgKey(ctx context.Context, app string) (int64, error) {
	n, _, err := s.store.TakeCount(ctx, app, "msg_key", "all", 0)
	return int64(n), err
}

// msgKeyBody is the success of a template message: data.msg_key a number, as Baidu documents it.
func msgKeyBody(key int64) []byte {
	type data struct {
		MsgKey int64 `json:"msg_key"`
	}
	return mustJSON(struct {
		Errno int    `json:"errno"`
		Msg   string `json:"msg"`
		Data  data   `json:"data"`
	}{0, "success", data{key}})
}

// checkTemplateData says what is wrong with a template message's data ("" when nothing): it must
// be a JSON object whose every value is an object with a "value".
func checkTemplateData(data string) string {
	if data == "" {
		return "" // the schema reports it
	}
	m, err := jsonObject(data)
	if err != nil {
		return `data: ` + err.Error() + `; want {"keyword1":{"value":"…"},…}`
	}
	for k, v := range m {
		kv, ok := v.(map[string]any)
		if _, has := kv["value"]; !ok || !has {
			return "data: " + strconv.Quote(k) + `: want an object with a "value", as {"value":"…"}`
		}
	}
	return ""
}

func reasonTemplateUnknown(id, app string) string {
	return "template_id: " + strconv.Quote(id) + " is not one of app " + app + "'s templates (apps[].templates; an app that lists none takes any under policy.templates: any)"
}

func reasonNotSubscribed(openID, templateID, subscribeID string) string {
	return "no consent of " + strconv.Quote(openID) + " to template " + strconv.Quote(templateID) + " under subscribe_id " +
		strconv.Quote(subscribeID) + " is left: each consent is used by one message (admin API .../users/{open_id}/subscriptions, apps[].subscriptions)"
}
