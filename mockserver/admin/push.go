package admin

// The message push of issue 13: an app's push configuration, and "the user writes", which opens
// the user's window and pushes the message to the app's bot.
//
//	GET    /__admin/apps/{app}/push                    the push configuration, token and key hidden
//	PUT    /__admin/apps/{app}/push                    set it (after Baidu's verification handshake)
//	DELETE /__admin/apps/{app}/push                    switch push off for the app
//	POST   /__admin/apps/{app}/users/{open_id}/messages  the user writes: {"msg_type":"text","content":"…"}

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
)

// MsgIDBase is added to the store's MsgId counter: MsgIds look like Baidu's 16-digit ones
// (1234567890123456) and stay below baidupush.MaxSafeMsgID.
const MsgIDBase = 1_000_000_000_000_000

// Redacted replaces the token and the key of a push configuration in the answers of the admin
// API (config.Push.Redacted): they are secrets of the bot, as client_secret is of the app.
const Redacted = "<redacted>"

// The sources of an app's push configuration (PushView.Source).
const (
	// PushFromAdmin is a configuration set with PUT /__admin/apps/{app}/push.
	PushFromAdmin = "admin"
	// PushFromConfig is apps[].push of the configuration file.
	PushFromConfig = "config"
)

// PushView is the answer of GET and PUT /__admin/apps/{app}/push.
type PushView struct {
	// App is the app's id.
	App string `json:"app"`
	// Source is "admin" or "config".
	Source string `json:"source"`
	// Push is the configuration with its defaults filled in, token and key redacted.
	Push config.Push `json:"push"`
}

// PushMessage is one message a user writes: text with content, or image with pic_url.
type PushMessage struct {
	// MsgType is "text" or "image".
	MsgType string `json:"msg_type"`
	// Content is the text of a text message.
	Content string `json:"content,omitempty"`
	// PicURL is the image link of an image message.
	PicURL string `json:"pic_url,omitempty"`
}

// UserWrites is the body of POST /__admin/apps/{app}/users/{open_id}/messages: one message, and
// optionally more written in the same breath (pushed one after the other: the out_of_order fault
// needs two), with push faults for this call on top of the app's.
type UserWrites struct {
	PushMessage
	// More are further messages, pushed after the first.
	More []PushMessage `json:"more,omitempty"`
	// Faults apply to this call's pushes, after the app's own (config.PushFault).
	Faults []config.PushFault `json:"faults,omitempty"`
}

// The outcomes of a user's message (UserWroteAnswer.Outcome), besides baidupush.Outcome's.
const (
	// OutcomeNoPush means the app has no push configuration: the window opened, nothing was pushed.
	OutcomeNoPush = "no_push"
)

// UserWroteAnswer is the answer of POST /__admin/apps/{app}/users/{open_id}/messages.
type UserWroteAnswer struct {
	// App and OpenID name the user.
	App    string `json:"app"`
	OpenID string `json:"open_id"`
	// CreateTime is when the user wrote, on the app's clock (the pushes' CreateTime).
	CreateTime time.Time `json:"create_time"`
	// Window is the user's window after the message: open, no replies yet.
	Window *WindowView `json:"window,omitempty"`
	// Outcome is "delivered" (every message acknowledged), "failed", "canceled", "invalid" or
	// "no_push".
	Outcome string `json:"outcome"`
	// Summary says what happened in one sentence.
	Summary string `json:"summary"`
	// Results are the deliveries, one per message in the order written.
	Results []baidupush.Result `json:"results"`
}

// pushRoutes registers the routes of the message push.
func (a *API) pushRoutes(p prefixed) {
	p.handle("/apps/{app}/push", a.getPush, http.MethodGet)
	p.handle("/apps/{app}/push", a.putPush, http.MethodPut)
	p.handle("/apps/{app}/push", a.deletePush, http.MethodDelete)
	p.handle("/apps/{app}/users/{open_id}/messages", a.userWrites, http.MethodPost)
}

// pusher returns the store's push half, or answers 501.
func (a *API) pusher(w http.ResponseWriter) (store.Pusher, bool) {
	p, ok := a.store.(store.Pusher)
	if !ok {
		WriteError(w, http.StatusNotImplemented, fmt.Sprintf("the store (%T) keeps no push configuration (store.Pusher)", a.store))
	}
	return p, ok
}

// AppPush returns the push configuration in force for app: the one set through the admin API,
// else apps[].push of the configuration file; nil when there is none (or push was switched off).
func (a *API) AppPush(ctx context.Context, app string) (*config.Push, string, error) {
	if p, ok := a.store.(store.Pusher); ok {
		b, stored, err := p.Push(ctx, app)
		if err != nil {
			return nil, "", err
		}
		if stored {
			if len(b) == 0 {
				return nil, "", nil
			}
			var c config.Push
			if err := json.Unmarshal(b, &c); err != nil {
				return nil, "", fmt.Errorf("stored push configuration of %s: %w", app, err)
			}
			return &c, PushFromAdmin, nil
		}
	}
	if ca, ok := a.core.ConfiguredApp(app); ok && ca.Push != nil {
		c := *ca.Push
		return &c, PushFromConfig, nil
	}
	return nil, "", nil
}

// RedactPush hides the token and the key of a push configuration.
func RedactPush(c config.Push) config.Push { return c.Redacted() }

func (a *API) getPush(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	c, src, err := a.AppPush(r.Context(), app.ID)
	if err != nil {
		StoreFailed(w, err)
		return
	}
	if c == nil {
		WriteError(w, http.StatusNotFound, fmt.Sprintf("app %q has no push configuration (PUT /__admin/apps/%s/push, or apps[].push in the file)", app.ID, app.ID))
		return
	}
	WriteJSON(w, http.StatusOK, pushView(app, *c, src))
}

func pushView(app store.App, c config.Push, src string) PushView {
	c.Config = c.Config.WithDefaults(app.ClientID)
	return PushView{App: app.ID, Source: src, Push: RedactPush(c)}
}

// HandshakeFailed is the answer of a PUT /__admin/apps/{app}/push refused by the handshake: the
// error, and what was sent and what came back.
type HandshakeFailed struct {
	// Reason is the reason, with what was sent and what came back.
	Reason string `json:"error"`
	// Sent holds signature, timestamp, nonce and echoStr.
	Sent map[string]string `json:"sent"`
	// Status and Body are the bot's answer (status 0: none).
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// Error returns the reason.
func (h *HandshakeFailed) Error() string { return h.Reason }

// putPush checks a push configuration, runs the verification handshake against its URL and,
// when the bot echoes echoStr byte for byte, stores it.
func (a *API) putPush(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	if _, ok := a.pusher(w); !ok {
		return
	}
	var in config.Push
	if !decodeInput(w, r, &in, `{"url":"http://127.0.0.1:8081/","token":"…","mode":"plain|secure|compatible","format":"xml|json"}`) {
		return
	}
	status, err := a.SetPush(r.Context(), app, in)
	var hf *HandshakeFailed
	switch {
	case errors.As(err, &hf):
		WriteJSON(w, status, hf)
		return
	case err != nil:
		WriteError(w, status, err.Error())
		return
	}
	WriteJSON(w, http.StatusOK, pushView(app, in, PushFromAdmin))
}

// deletePush switches push off for the app (also over apps[].push of the file).
func (a *API) deletePush(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	p, ok := a.pusher(w)
	if !ok {
		return
	}
	if err := p.PutPush(r.Context(), app.ID, []byte{}); err != nil {
		StoreFailed(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, Status{Status: "push off"})
}

// PushClient returns a client for pushes and handshakes: no proxy from the environment (a bot
// is usually on loopback), no cookies, each attempt bounded by the push timeout. The admin API
// takes one per call and closes its idle connections at the end of the call, so retries reuse
// one connection and nothing lingers.
func PushClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}}
}

// userWrites is "the user writes": the window opens at CreateTime on the app's clock, then the
// message is pushed when the app has a push configuration.
func (a *API) userWrites(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	var in UserWrites
	if !decodeInput(w, r, &in, `{"msg_type":"text","content":"…"} or {"msg_type":"image","pic_url":"https://…"}`) {
		return
	}
	// A browser navigating away must not cut a delivery short: the attempts are bounded anyway.
	ans, status, err := a.UserWrites(context.WithoutCancel(r.Context()), app.ID, mux.Vars(r)["open_id"], in)
	if err != nil {
		WriteError(w, status, err.Error())
		return
	}
	WriteJSON(w, http.StatusOK, ans)
}

// checkMessage reports what is wrong with one message of a user.
func checkMessage(path string, m PushMessage) error {
	switch m.MsgType {
	case baidupush.MsgTypeText:
		if m.Content == "" {
			return fmt.Errorf("%scontent: required in a text message", path)
		}
		if m.PicURL != "" {
			return fmt.Errorf("%spic_url: only in an image message", path)
		}
	case baidupush.MsgTypeImage:
		if m.PicURL == "" {
			return fmt.Errorf("%spic_url: required in an image message", path)
		}
		if m.Content != "" {
			return fmt.Errorf("%scontent: only in a text message", path)
		}
	default:
		return fmt.Errorf(`%smsg_type: %q; want "text" or "image"`, path, m.MsgType)
	}
	return nil
}

// UserWrites does what POST /__admin/apps/{app}/users/{open_id}/messages does: it opens (resets)
// the user's window at the app's clock, records the user's message in the journal, and, when the
// app has a push configuration, pushes every message to the bot, recording each attempt as it
// happens. On an error it returns the HTTP status that goes with it.
func (a *API) UserWrites(ctx context.Context, appID, openID string, in UserWrites) (UserWroteAnswer, int, error) {
	app, ok, err := a.store.App(ctx, appID)
	if err != nil {
		return UserWroteAnswer{}, http.StatusInternalServerError, fmt.Errorf("store: %w", err)
	}
	if !ok {
		return UserWroteAnswer{}, http.StatusNotFound, fmt.Errorf("unknown app %q", appID)
	}
	if openID == "" {
		return UserWroteAnswer{}, http.StatusBadRequest, errors.New("open_id: empty")
	}
	msgs := append([]PushMessage{in.PushMessage}, in.More...)
	for i, m := range msgs {
		path := ""
		if i > 0 {
			path = fmt.Sprintf("more[%d].", i-1)
		}
		if err := checkMessage(path, m); err != nil {
			return UserWroteAnswer{}, http.StatusBadRequest, err
		}
	}
	if errs := (config.Push{Faults: in.Faults}).Check("push", app.ClientID); len(errs) > 0 {
		for _, e := range errs {
			if strings.HasPrefix(e.Path, "push.faults") {
				return UserWroteAnswer{}, http.StatusBadRequest, fmt.Errorf("%s: %s", strings.TrimPrefix(e.Path, "push."), e.Reason)
			}
		}
	}
	cfg, _, err := a.AppPush(ctx, app.ID)
	if err != nil {
		return UserWroteAnswer{}, http.StatusInternalServerError, fmt.Errorf("store: %w", err)
	}
	var pusher store.Pusher
	if cfg != nil {
		if pusher, ok = a.store.(store.Pusher); !ok {
			return UserWroteAnswer{}, http.StatusNotImplemented, fmt.Errorf("the store (%T) keeps no MsgId counter (store.Pusher)", a.store)
		}
	}

	now, err := store.AppNow(ctx, a.store, app, a.core.Now())
	if err != nil {
		return UserWroteAnswer{}, http.StatusInternalServerError, fmt.Errorf("store: %w", err)
	}
	if err := a.store.OpenWindow(ctx, app.ID, openID, now); err != nil {
		return UserWroteAnswer{}, http.StatusInternalServerError, fmt.Errorf("store: %w", err)
	}
	ans := UserWroteAnswer{App: app.ID, OpenID: openID, CreateTime: now, Results: []baidupush.Result{}}
	pms := make([]baidupush.Message, len(msgs))
	for i, m := range msgs {
		pms[i] = baidupush.Message{ToUserName: app.ID, FromUserName: openID, CreateTime: now.Unix(),
			MsgType: m.MsgType, Content: m.Content, PicURL: m.PicURL}
		if pusher != nil {
			n, err := pusher.NextMsgID(ctx)
			if err != nil {
				return UserWroteAnswer{}, http.StatusInternalServerError, fmt.Errorf("store: %w", err)
			}
			pms[i].MsgID = MsgIDBase + int64(n)
		}
		reason := "the user wrote: window open (no push configuration: nothing pushed)"
		if cfg != nil {
			reason = "the user wrote: window open; pushing to " + cfg.URL
		}
		a.recordPush(ctx, app, now, pms[i], store.EndpointUserMessage, 0, reason, nil)
	}
	if cfg == nil {
		ans.Outcome, ans.Summary = OutcomeNoPush, "window open; the app has no push configuration, nothing was pushed"
	} else {
		ans.Results = a.deliver(ctx, app, now, *cfg, in.Faults, pms)
		ans.Outcome, ans.Summary = summarize(ans.Results)
	}
	if ws, err := a.store.Windows(ctx, app.ID); err == nil {
		for _, win := range ws {
			if win.OpenID == openID {
				v := a.windowView(now, win)
				ans.Window = &v
			}
		}
	}
	return ans, http.StatusOK, nil
}

func (a *API) windowView(now time.Time, win store.Window) WindowView {
	pol := a.core.Config().Policy.Window
	exp := win.OpenedAt.Add(time.Duration(pol.Duration))
	left := max(pol.MaxReplies-win.Replies, 0)
	open := now.Before(exp)
	if !open {
		left = 0
	}
	return WindowView{Window: win, ExpiresAt: exp, Open: open, RepliesLeft: left}
}

// deliver pushes msgs under cfg with the app's and the call's faults, journaling every attempt.
func (a *API) deliver(ctx context.Context, app store.App, now time.Time, cfg config.Push, faults []config.PushFault, msgs []baidupush.Message) []baidupush.Result {
	c := cfg.Config.WithDefaults(app.ClientID)
	byID := map[int64]baidupush.Message{}
	for _, m := range msgs {
		byID[m.MsgID] = m
	}
	all := append(a.pushPlans(ctx, app.ID, cfg), faults...)
	var names []string
	for _, f := range all {
		names = append(names, f.Kind)
	}
	opts := append(config.PushOptions(all),
		baidupush.WithClock(func() time.Time { return now }),
		baidupush.OnAttempt(func(msgID int64, at baidupush.Attempt) {
			code, reason := 1, at.Reason
			if at.Acked {
				code, reason = 0, "acknowledged"
			}
			if at.Duplicate {
				reason = "duplicate delivery (same MsgId): " + reason
			} else {
				reason = fmt.Sprintf("attempt %d of %d: %s", at.N, c.Attempts(), reason)
			}
			a.recordPush(ctx, app, now, byID[msgID], store.EndpointPush, code, reason, &pushAttempt{at, c, strings.Join(names, ",")})
		}))
	client := PushClient()
	defer client.CloseIdleConnections() // no connection outlives the call
	return baidupush.DeliverAll(ctx, client, c, msgs, opts...)
}

// pushPlans returns the app's push faults that strike this push: a plan with Skip or Times is
// counted in the app's counter "push_fault:<i>" of a period named after the configuration, so
// replicas agree, a new configuration starts the counts again, and so does a reset of the app.
func (a *API) pushPlans(ctx context.Context, app string, cfg config.Push) []config.PushFault {
	var out []config.PushFault
	var period string
	for i, f := range cfg.Faults {
		if f.Skip == 0 && f.Times == 0 {
			out = append(out, f)
			continue
		}
		if period == "" {
			b, _ := json.Marshal(cfg)
			sum := sha1.Sum(b)
			period = "cfg-" + hex.EncodeToString(sum[:6])
		}
		limit := 0
		if f.Times > 0 {
			limit = f.Skip + f.Times
		}
		n, ok, err := a.store.TakeCount(ctx, app, "push_fault:"+strconv.Itoa(i), period, limit)
		if err != nil {
			a.core.Logger().Error("push fault count failed", "app", app, "err", err)
			continue
		}
		if ok && n > f.Skip {
			out = append(out, f)
		}
	}
	return out
}

type pushAttempt struct {
	a      baidupush.Attempt
	c      baidupush.Config
	faults string // the push faults of the delivery, comma-separated
}

// LayerPush is the layer of the journal entries of the message push.
const LayerPush smartappmock.Layer = "push"

// recordPush journals a user's message or one push attempt.
func (a *API) recordPush(ctx context.Context, app store.App, appNow time.Time, m baidupush.Message, endpoint string, code int, reason string, at *pushAttempt) {
	params := []store.Param{
		{Name: "msg_id", Value: strconv.FormatInt(m.MsgID, 10), Source: "push", Used: true},
		{Name: "msg_type", Value: m.MsgType, Source: "push", Used: true},
	}
	if m.MsgType == baidupush.MsgTypeImage {
		params = append(params, store.Param{Name: "pic_url", Value: m.PicURL, Source: "push", Used: true})
	} else {
		params = append(params, store.Param{Name: "content", Value: m.Content, Source: "push", Used: true})
	}
	id := fmt.Sprintf("%s-%d", endpoint, m.MsgID)
	if m.MsgID == 0 { // no push: no MsgId drawn
		id = fmt.Sprintf("%s-%s-%d", endpoint, m.FromUserName, time.Now().UnixNano())
	}
	e := store.Entry{
		ID: id, Time: a.core.Now(), AppTime: appNow, App: app.ID,
		Endpoint: endpoint, Method: http.MethodPost, OpenID: m.FromUserName, MsgType: m.MsgType,
		Layer: LayerPush, Code: code, Reason: reason, Params: params,
	}
	if at != nil {
		e.ID = fmt.Sprintf("%s-%d", e.ID, at.a.N)
		if u, err := url.Parse(at.c.URL); err == nil {
			e.Path = u.Path
		}
		e.ContentType = "text/xml; charset=utf-8"
		if at.c.Format == baidupush.FormatJSON {
			e.ContentType = "application/json"
		}
		e.Status = at.a.Status
		e.LatencyMicros = at.a.Latency.Microseconds()
		e.Params = append(e.Params,
			store.Param{Name: "attempt", Value: strconv.Itoa(at.a.N), Source: "push", Used: true},
			store.Param{Name: "attempts", Value: strconv.Itoa(at.c.Attempts()), Source: "push", Used: true},
			store.Param{Name: "mode", Value: string(at.c.Mode), Source: "push", Used: true},
			store.Param{Name: "duplicate", Value: strconv.FormatBool(at.a.Duplicate), Source: "push", Used: true},
			store.Param{Name: "body", Value: at.a.Body, Source: "answer", Used: true})
		e.Fault = at.faults
	}
	if _, err := a.core.Record(ctx, e); err != nil {
		a.core.Logger().Error("journal append failed", "id", e.ID, "err", err)
	}
}

// summarize tells the outcome of the deliveries of one call.
func summarize(rs []baidupush.Result) (string, string) {
	var parts []string
	outcome := string(baidupush.OutcomeDelivered)
	for _, r := range rs {
		n := 0
		for _, at := range r.Attempts {
			if !at.Duplicate {
				n++
			}
		}
		if r.Delivered() {
			parts = append(parts, fmt.Sprintf("MsgId %d delivered after %d attempt%s", r.MsgID, n, plural(n)))
			continue
		}
		if outcome == string(baidupush.OutcomeDelivered) {
			outcome = string(r.Outcome)
		}
		parts = append(parts, fmt.Sprintf("MsgId %d not delivered (%s): %s", r.MsgID, r.Outcome, r.Reason))
	}
	return outcome, "window open; " + strings.Join(parts, "; ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// SetPush checks a push configuration for app, runs Baidu's verification handshake against its
// URL and, when the bot echoes echoStr byte for byte, stores it, as PUT
// /__admin/apps/{app}/push does. A refusal by the handshake is a *HandshakeFailed; with any
// error comes the HTTP status that goes with it.
func (a *API) SetPush(ctx context.Context, app store.App, in config.Push) (int, error) {
	p, ok := a.store.(store.Pusher)
	if !ok {
		return http.StatusNotImplemented, fmt.Errorf("the store (%T) keeps no push configuration (store.Pusher)", a.store)
	}
	if errs := in.Check("push", app.ClientID); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Path + ": " + e.Reason
		}
		return http.StatusBadRequest, errors.New(strings.Join(msgs, "; "))
	}
	c := in.Config.WithDefaults(app.ClientID)
	now := app.Now(a.core.Now())
	client := PushClient()
	defer client.CloseIdleConnections()
	if err := baidupush.Handshake(ctx, client, c, baidupush.WithClock(func() time.Time { return now })); err != nil {
		out := &HandshakeFailed{Reason: "handshake refused, configuration not saved: " + err.Error(), Sent: map[string]string{}}
		var he *baidupush.HandshakeError
		if errors.As(err, &he) {
			for k := range he.Sent {
				out.Sent[k] = he.Sent.Get(k)
			}
			out.Status, out.Body = he.Status, he.Body
		}
		return http.StatusUnprocessableEntity, out
	}
	b, err := json.Marshal(in)
	if err == nil {
		err = p.PutPush(ctx, app.ID, b)
	}
	if err != nil {
		return http.StatusInternalServerError, fmt.Errorf("store: %w", err)
	}
	return http.StatusOK, nil
}
