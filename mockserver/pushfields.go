package mockserver

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
)

// FreePush is the input of PushFields: a free-form push to an app's bot. Fields override and
// extend the defaults: ToUserName (the app's id), FromUserName (OpenID), CreateTime (the app's
// clock) and, unless MsgType is "event", MsgId (drawn from the store's counter, as for a user's
// message).
type FreePush struct {
	// App is the app's id; OpenID the user's (the default FromUserName).
	App, OpenID string
	// Fields are the push's fields; MsgType is required.
	Fields baidupush.Fields
	// Faults apply to this push, after the app's own push faults.
	Faults []config.PushFault
}

// FreePushed is what PushFields did.
type FreePushed struct {
	// App names the app; OpenID is the push's FromUserName.
	App, OpenID string
	// CreateTime is the app's clock when the push was made.
	CreateTime time.Time
	// Fields are the fields pushed, in the order rendered.
	Fields baidupush.Fields
	// WindowOpened says the push was a user's message (MsgType text or image), which opens the
	// user's window as UserWrites does.
	WindowOpened bool
	// Outcome is the delivery's outcome (baidupush.Outcome) or OutcomeNoPush.
	Outcome string
	// Summary says what happened in one sentence.
	Summary string
	// Result is the delivery (empty under OutcomeNoPush).
	Result baidupush.Result
}

// EventMsgType is the MsgType of events, which carry no MsgId (Baidu de-duplicates them by
// FromUserName and CreateTime).
const EventMsgType = "event"

// PushFields pushes free-form fields to app's bot: an event, a MsgType Baidu does not document
// [inf], or a text or image message with fields overridden. A text or image push is a user's
// message: the user's window (FromUserName's) opens and the message is journaled as UserWrites
// journals one; any other push only journals its attempts. The delivery uses the app's push
// configuration and push faults, like UserWrites. Its errors are *Error: ErrNotFound,
// ErrInvalid (the fields, a fault), ErrUnsupported, ErrStore. The push goes through the outbox
// as a user's message does (when the server delivers through one), and the call waits for it.
func (s *Server) PushFields(ctx context.Context, in FreePush) (FreePushed, error) {
	app, ok, err := s.store.App(ctx, in.App)
	if err != nil {
		return FreePushed{}, storeFailed(err)
	}
	if !ok {
		return FreePushed{}, &Error{Code: ErrNotFound, Message: fmt.Sprintf("unknown app %q", in.App)}
	}
	msgType, _ := in.Fields.Get("MsgType")
	if msgType == "" {
		return FreePushed{}, invalid("fields: MsgType is required (text, image, event, or any other [inf])")
	}
	for _, e := range (config.Push{Faults: in.Faults}).Check("push", app.ClientID) {
		if strings.HasPrefix(e.Path, "push.faults") {
			return FreePushed{}, invalid("%s: %s", strings.TrimPrefix(e.Path, "push."), e.Reason)
		}
	}
	cfg, _, err := s.AppPush(ctx, app.ID)
	if err != nil {
		return FreePushed{}, storeFailed(err)
	}
	pusher, ok := s.store.(store.Pusher)
	if cfg != nil && !ok {
		return FreePushed{}, &Error{Code: ErrUnsupported, Message: fmt.Sprintf("the store (%T) keeps no MsgId counter (store.Pusher)", s.store)}
	}
	now, err := store.AppNow(ctx, s.store, app, s.now())
	if err != nil {
		return FreePushed{}, storeFailed(err)
	}
	f := baidupush.Fields{{Name: "ToUserName", Value: app.ID}, {Name: "FromUserName", Value: in.OpenID},
		{Name: "CreateTime", Number: now.Unix(), IsNumber: true}}
	var msgID int64
	if cfg != nil {
		n, err := pusher.NextMsgID(ctx)
		if err != nil {
			return FreePushed{}, storeFailed(err)
		}
		msgID = MsgIDBase + int64(n)
		if msgType != EventMsgType {
			f = append(f, baidupush.Field{Name: "MsgId", Number: msgID, IsNumber: true})
		}
	}
	for _, x := range in.Fields {
		f = f.Set(x)
	}
	baidupush.SortFields(f)
	if err := f.Validate(); err != nil {
		return FreePushed{}, invalid("fields: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	from, _ := f.Get("FromUserName")
	out := FreePushed{App: app.ID, OpenID: from, CreateTime: now, Fields: f}
	m := journalMessage(f, msgID)
	if msgType == baidupush.MsgTypeText || msgType == baidupush.MsgTypeImage {
		if err := s.store.OpenWindow(ctx, app.ID, from, now); err != nil {
			return FreePushed{}, storeFailed(err)
		}
		out.WindowOpened = true
		reason := "the user wrote (a free-form push): window open (no push configuration: nothing pushed)"
		if cfg != nil {
			reason = "the user wrote (a free-form push): window open; pushing to " + cfg.URL
		}
		s.recordPush(ctx, app.ID, now, m, store.EndpointUserMessage, 0, reason, nil)
	}
	if cfg == nil {
		out.Outcome, out.Summary = OutcomeNoPush, "the app has no push configuration, nothing was pushed"
		out.Result = baidupush.Result{Attempts: []baidupush.Attempt{}}
		return out, nil
	}
	job := deliveryJob{App: app.ID, ClientID: app.ClientID, AppNow: now, Push: *cfg,
		Faults: append(s.pushPlans(ctx, app.ID, *cfg), in.Faults...), Msgs: []baidupush.Message{m}, Fields: f, Enqueued: s.now()}
	rs, err := s.dispatch(ctx, job, true)
	if err != nil {
		return FreePushed{}, err
	}
	if len(rs) == 1 {
		out.Result = rs[0]
	}
	out.Outcome = string(out.Result.Outcome)
	_, out.Summary = summarize([]baidupush.Result{out.Result})
	if !out.WindowOpened {
		out.Summary = strings.TrimPrefix(out.Summary, "window open; ")
	}
	return out, nil
}

// journalMessage is the message of a free-form push as the journal records it.
func journalMessage(f baidupush.Fields, msgID int64) baidupush.Message {
	m := baidupush.Message{MsgID: msgID}
	m.ToUserName, _ = f.Get("ToUserName")
	m.FromUserName, _ = f.Get("FromUserName")
	m.MsgType, _ = f.Get("MsgType")
	m.Content, _ = f.Get("Content")
	m.PicURL, _ = f.Get("PicUrl")
	for _, x := range f {
		if x.Name == "MsgId" && x.IsNumber && x.Number > 0 {
			m.MsgID = x.Number // an overridden MsgId names the push
		}
	}
	if ev, ok := f.Get("Event"); ok && m.Content == "" {
		m.Content = "Event " + ev
	}
	return m
}
