package mockserver

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/guard"
)

// MsgIDBase is added to the store's MsgId counter: MsgIds look like Baidu's 16-digit ones
// (1234567890123456) and stay below baidupush.MaxSafeMsgID.
const MsgIDBase = 1_000_000_000_000_000

// UserMessage is one message a user writes: text with Content, or an image with PicURL.
type UserMessage struct {
	// MsgType is baidupush.MsgTypeText or baidupush.MsgTypeImage.
	MsgType string
	// Content is the text of a text message.
	Content string
	// PicURL is the image link of an image message.
	PicURL string
}

// UserWrite is the input of UserWrites: who writes to which app, and what.
type UserWrite struct {
	// App is the app's id; OpenID the user's.
	App, OpenID string
	// Messages are written in one breath and pushed one after the other (the out_of_order
	// fault needs two). None means the user wrote without saying what: the window opens,
	// nothing is journaled or pushed.
	Messages []UserMessage
	// Faults apply to this call's pushes, after the app's own push faults.
	Faults []config.PushFault
	// Queue answers as soon as the pushes are in the outbox (outcome OutcomeQueued), without
	// waiting for their delivery; the delivery log follows them. It needs a running delivery
	// loop (StartDelivery): without one the pushes are delivered within the call anyway.
	Queue bool
}

// The outcomes of UserWrites (UserWrote.Outcome), besides baidupush.Outcome's ("delivered",
// "failed", "canceled", "invalid").
const (
	// OutcomeNoPush means the app has no push configuration: the window opened, the messages
	// were journaled, nothing was pushed.
	OutcomeNoPush = "no_push"
	// OutcomeNoMessage means the user wrote no message (UserWrite.Messages empty): the window
	// opened, nothing else happened.
	OutcomeNoMessage = "no_message"
	// OutcomeQueued means the pushes are in the outbox: a replica delivers them, the delivery
	// log (Pushes) follows them. Also the outcome of a wait cut short by the replica stopping.
	OutcomeQueued = "queued"
)

// UserWrote is what UserWrites did.
type UserWrote struct {
	// App and OpenID name the user.
	App, OpenID string
	// CreateTime is when the user wrote, on the app's clock (the pushes' CreateTime).
	CreateTime time.Time
	// Window is the user's window after the message (nil when the store no longer lists it).
	Window *store.Window
	// Outcome is baidupush.OutcomeDelivered when every message was acknowledged, else the
	// outcome of the first one that was not, OutcomeNoPush or OutcomeNoMessage.
	Outcome string
	// Summary says what happened in one sentence.
	Summary string
	// Results are the deliveries, one per message in the order written (none without a push).
	Results []baidupush.Result
}

// MessageError is a message of UserWrite.Messages that cannot be written: which one (Index),
// which field and why.
type MessageError struct {
	// Index is the message's position in UserWrite.Messages.
	Index int
	// Field is "msg_type", "content" or "pic_url".
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error names the message, the field and the reason: "messages[1].content: required in a text
// message".
func (e *MessageError) Error() string {
	return fmt.Sprintf("messages[%d].%s: %s", e.Index, e.Field, e.Reason)
}

// check reports what is wrong with the message at index i.
func (m UserMessage) check(i int) *MessageError {
	switch m.MsgType {
	case baidupush.MsgTypeText:
		if m.Content == "" {
			return &MessageError{i, "content", "required in a text message"}
		}
		if m.PicURL != "" {
			return &MessageError{i, "pic_url", "only in an image message"}
		}
	case baidupush.MsgTypeImage:
		if m.PicURL == "" {
			return &MessageError{i, "pic_url", "required in an image message"}
		}
		if m.Content != "" {
			return &MessageError{i, "content", "only in a text message"}
		}
	default:
		return &MessageError{i, "msg_type", fmt.Sprintf(`%q; want "text" or "image"`, m.MsgType)}
	}
	return nil
}

// UserWrites is "a user writes to the app's customer service", the one action behind the admin
// API's routes, the inbox's composer, mockservertest and the webhook contract kit. The user's
// window opens (resets) at the app's clock; then, for each message, a MsgId is drawn (when the
// app has a push configuration), the message is journaled (store.EndpointUserMessage), and the
// messages are pushed to the bot with the app's and the call's push faults, each attempt
// journaled as it happens (store.EndpointPush). The window opens whether or not a push gets
// through. Its errors are *Error: ErrNotFound (no such app), ErrInvalid (a *MessageError, a
// fault), ErrUnsupported (a push configuration on a store without store.Pusher), ErrStore.
func (s *Server) UserWrites(ctx context.Context, in UserWrite) (UserWrote, error) {
	app, ok, err := s.store.App(ctx, in.App)
	if err != nil {
		return UserWrote{}, storeFailed(err)
	}
	if !ok {
		return UserWrote{}, &Error{Code: ErrNotFound, Message: fmt.Sprintf("unknown app %q", in.App)}
	}
	if in.OpenID == "" {
		return UserWrote{}, invalid("open_id: empty")
	}
	for i, m := range in.Messages {
		if err := m.check(i); err != nil {
			return UserWrote{}, &Error{Code: ErrInvalid, Message: err.Error(), Err: err}
		}
	}
	for _, e := range (config.Push{Faults: in.Faults}).Check("push", app.ClientID) {
		if strings.HasPrefix(e.Path, "push.faults") {
			return UserWrote{}, invalid("%s: %s", strings.TrimPrefix(e.Path, "push."), e.Reason)
		}
	}
	var cfg *config.Push
	var pusher store.Pusher
	if len(in.Messages) > 0 {
		if cfg, _, err = s.AppPush(ctx, app.ID); err != nil {
			return UserWrote{}, storeFailed(err)
		}
		if cfg != nil {
			if pusher, ok = s.store.(store.Pusher); !ok {
				return UserWrote{}, &Error{Code: ErrUnsupported, Message: fmt.Sprintf("the store (%T) keeps no MsgId counter (store.Pusher)", guard.Unwrap(s.store))}
			}
		}
	}

	d := s.delivery.Load()
	if d != nil && cfg != nil {
		if err := d.admit(ctx); err != nil {
			return UserWrote{}, err
		}
	}
	now, err := store.AppNow(ctx, s.store, app, s.now())
	if err != nil {
		return UserWrote{}, storeFailed(err)
	}
	if err := s.store.OpenWindow(ctx, app.ID, in.OpenID, now); err != nil {
		return UserWrote{}, storeFailed(err)
	}
	out := UserWrote{App: app.ID, OpenID: in.OpenID, CreateTime: now, Results: []baidupush.Result{}}
	msgs := make([]baidupush.Message, len(in.Messages))
	for i, m := range in.Messages {
		msgs[i] = baidupush.Message{ToUserName: app.ID, FromUserName: in.OpenID, CreateTime: now.Unix(),
			MsgType: m.MsgType, Content: m.Content, PicURL: m.PicURL}
		if pusher != nil {
			n, err := pusher.NextMsgID(ctx)
			if err != nil {
				return UserWrote{}, storeFailed(err)
			}
			msgs[i].MsgID = MsgIDBase + int64(n)
		}
		reason := "the user wrote: window open (no push configuration: nothing pushed)"
		if cfg != nil {
			reason = "the user wrote: window open; pushing to " + cfg.URL
		}
		s.recordPush(ctx, app.ID, now, msgs[i], store.EndpointUserMessage, 0, reason, nil)
	}
	switch {
	case len(in.Messages) == 0:
		out.Outcome, out.Summary = OutcomeNoMessage, "window open; no message, nothing was pushed"
	case cfg == nil:
		out.Outcome, out.Summary = OutcomeNoPush, "window open; the app has no push configuration, nothing was pushed"
	default:
		job := deliveryJob{App: app.ID, ClientID: app.ClientID, AppNow: now, Push: *cfg,
			Faults: append(s.pushPlans(ctx, app.ID, *cfg), in.Faults...), Msgs: msgs, Enqueued: s.now()}
		if out.Results, err = s.dispatch(ctx, job, !in.Queue); err != nil {
			return UserWrote{}, err
		}
		out.Outcome, out.Summary = summarize(out.Results)
	}
	if ws, err := s.store.Windows(ctx, app.ID); err == nil {
		for _, w := range ws {
			if w.OpenID == in.OpenID {
				out.Window = &w
			}
		}
	}
	return out, nil
}

// summarize tells the outcome of the deliveries of one call, and says it in a sentence.
func summarize(rs []baidupush.Result) (outcome, summary string) {
	var parts []string
	outcome = string(baidupush.OutcomeDelivered)
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
		if r.Outcome == OutcomeQueued {
			if outcome == string(baidupush.OutcomeDelivered) {
				outcome = OutcomeQueued
			}
			parts = append(parts, fmt.Sprintf("MsgId %d queued: %s", r.MsgID, r.Reason))
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
