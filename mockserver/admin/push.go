package admin

// The message push: an app's push configuration, and "the user writes", which opens the user's
// window and pushes the message to the app's bot. The handlers decode, call the API core
// (mockserver.Server's SetPush, AppPush and UserWrites) and render its answer.
//
//	GET    /__admin/apps/{app}/push                    the push configuration, token and key hidden
//	PUT    /__admin/apps/{app}/push                    set it (after Baidu's verification handshake)
//	DELETE /__admin/apps/{app}/push                    switch push off for the app
//	POST   /__admin/apps/{app}/users/{open_id}/messages  the user writes: {"msg_type":"text","content":"…"}
//	POST   /__admin/apps/{app}/messages                the same as {"open_id":"…", …}: an alias (admin.go)

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// Redacted replaces the token and the key of a push configuration in the answers of the admin
// API (config.Push.Redacted): they are secrets of the bot, as client_secret is of the app.
const Redacted = "<redacted>"

// The sources of an app's push configuration (PushView.Source).
const (
	// PushFromAdmin is a configuration set with PUT /__admin/apps/{app}/push.
	PushFromAdmin = mockserver.PushSourceAdmin
	// PushFromConfig is apps[].push of the configuration file.
	PushFromConfig = mockserver.PushSourceConfig
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
	queue  bool               // ?wait=false: answer queued at once
}

// The outcomes of a user's message (UserWroteAnswer.Outcome), besides baidupush.Outcome's.
const (
	// OutcomeNoPush means the app has no push configuration: the window opened, nothing was pushed.
	OutcomeNoPush = mockserver.OutcomeNoPush
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
	// Outcome is "delivered" (every message acknowledged), "failed", "canceled", "invalid",
	// "no_push", or "queued" (?wait=false, or a replica that stopped while the caller waited: the
	// delivery log follows the push).
	Outcome string `json:"outcome"`
	// Summary says what happened in one sentence.
	Summary string `json:"summary"`
	// Results are the deliveries, one per message in the order written.
	Results []baidupush.Result `json:"results"`
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

// pushRoutes registers the routes of the message push.
func (a *API) pushRoutes(p prefixed) {
	p.handle("/apps/{app}/push", a.getPush, http.MethodGet)
	p.handle("/apps/{app}/push", a.putPush, http.MethodPut)
	p.handle("/apps/{app}/push", a.deletePush, http.MethodDelete)
	p.handle("/apps/{app}/users/{open_id}/messages", a.userWrites, http.MethodPost)
	p.handle("/apps/{app}/push/fields", a.pushFields, http.MethodPost) // pushfields.go
}

// pusher returns the store's push half, or answers 501.
func (a *API) pusher(w http.ResponseWriter) (store.Pusher, bool) {
	p, ok := a.store.(store.Pusher)
	if !ok {
		WriteError(w, http.StatusNotImplemented, fmt.Sprintf("the store (%T) keeps no push configuration (store.Pusher)", a.store))
	}
	return p, ok
}

// RedactPush hides the token and the key of a push configuration.
func RedactPush(c config.Push) config.Push { return c.Redacted() }

func (a *API) getPush(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	c, src, err := a.core.AppPush(r.Context(), app.ID)
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

// putPush decodes a push configuration and has the core set it (the verification handshake
// runs against its URL first); a refusal by the handshake answers 422 with what was sent and
// what came back.
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
	if _, err := a.core.SetPush(r.Context(), app.ID, in); err != nil {
		coreFailed(w, err)
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

// userWrites is the canonical route of "the user writes": it decodes the message, has the core
// open the window and push it (mockserver.Server.UserWrites), and renders what happened.
func (a *API) userWrites(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	queue, ok := queueParam(w, r) // pushlog.go
	if !ok {
		return
	}
	var in UserWrites
	if !decodeInput(w, r, &in, `{"msg_type":"text","content":"…"} or {"msg_type":"image","pic_url":"https://…"}`) {
		return
	}
	in.queue = queue
	wrote, err := a.writeAsUser(r, app.ID, mux.Vars(r)["open_id"], in, true)
	if err != nil {
		coreFailed(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, a.userWroteAnswer(wrote))
}

// writeAsUser calls the core's UserWrites with the body of either route that means "the user
// wrote". Unless a message is required, a body without one (no msg_type, content, pic_url or
// more) is no message: the window opens, nothing else happens.
func (a *API) writeAsUser(r *http.Request, app, openID string, in UserWrites, required bool) (mockserver.UserWrote, error) {
	var msgs []mockserver.UserMessage
	if required || in.PushMessage != (PushMessage{}) || len(in.More) > 0 {
		msgs = append(msgs, mockserver.UserMessage(in.PushMessage))
		for _, m := range in.More {
			msgs = append(msgs, mockserver.UserMessage(m))
		}
	}
	// A browser navigating away must not cut a delivery short: the attempts are bounded anyway.
	return a.core.UserWrites(context.WithoutCancel(r.Context()), mockserver.UserWrite{App: app, OpenID: openID, Messages: msgs, Faults: in.Faults, Queue: in.queue})
}

// userWroteAnswer renders what the core's UserWrites did.
func (a *API) userWroteAnswer(u mockserver.UserWrote) UserWroteAnswer {
	ans := UserWroteAnswer{App: u.App, OpenID: u.OpenID, CreateTime: u.CreateTime, Outcome: u.Outcome,
		Summary: u.Summary, Results: u.Results}
	if ans.Results == nil {
		ans.Results = []baidupush.Result{}
	}
	if u.Window != nil {
		v := a.windowView(u.CreateTime, *u.Window)
		ans.Window = &v
	}
	return ans
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

// coreFailed answers an error of a domain action of the core with the status of its code. A
// message's problem names the message as the body does ("content", "more[0].content"); a
// refusal by the handshake is a HandshakeFailed.
func coreFailed(w http.ResponseWriter, err error) {
	var me *mockserver.MessageError
	if errors.As(err, &me) {
		path := ""
		if me.Index > 0 {
			path = fmt.Sprintf("more[%d].", me.Index-1)
		}
		WriteError(w, http.StatusBadRequest, path+me.Field+": "+me.Reason)
		return
	}
	status := http.StatusInternalServerError
	switch mockserver.ErrorCodeOf(err) {
	case mockserver.ErrInvalid:
		status = http.StatusBadRequest
	case mockserver.ErrNotFound:
		status = http.StatusNotFound
	case mockserver.ErrUnsupported:
		status = http.StatusNotImplemented
	case mockserver.ErrBusy:
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	case mockserver.ErrRefused:
		out := &HandshakeFailed{Reason: err.Error(), Sent: map[string]string{}}
		var he *baidupush.HandshakeError
		if errors.As(err, &he) {
			for k := range he.Sent {
				out.Sent[k] = he.Sent.Get(k)
			}
			out.Status, out.Body = he.Status, he.Body
		}
		WriteJSON(w, http.StatusUnprocessableEntity, out)
		return
	}
	WriteError(w, status, err.Error())
}
