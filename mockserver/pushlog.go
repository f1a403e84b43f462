package mockserver

import (
	"context"
	"fmt"
	"time"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/store"
)

// The delivery log: each push as the journal holds it (the user's message, an entry
// store.EndpointUserMessage, and every attempt, entries store.EndpointPush with the request byte
// for byte), its status derived from the attempts, and the redelivery of a past push.

// The statuses of a push in the delivery log (PushLog.Status).
const (
	// PushDelivered is a push the bot acknowledged (once at least).
	PushDelivered = "delivered"
	// PushFailed is a push whose last delivery ended with every attempt refused or unanswered.
	PushFailed = "failed"
	// PushPending is a push not delivered yet: in the outbox, being delivered, or cut short and
	// waiting for another replica.
	PushPending = "pending"
)

// PushLog is one push of the delivery log.
type PushLog struct {
	// MsgID is the push's MsgId.
	MsgID int64
	// App, OpenID and MsgType say who wrote what to which app.
	App, OpenID, MsgType string
	// Created is when the user wrote, on the app's clock (the push's CreateTime).
	Created time.Time
	// Status is PushDelivered, PushFailed or PushPending.
	Status string
	// Message is the journal entry of the user's message.
	Message store.Entry
	// Attempts are the journal entries of the attempts, oldest first (every delivery's).
	Attempts []store.Entry
	// Platform, for a third-party platform's push, is the platform's key: App is then
	// "platform:<key>", MsgID the push id, MsgType the event, and Message its first status entry.
	Platform string
}

// PushQuery selects pushes of the delivery log; empty fields match everything.
type PushQuery struct {
	// App and OpenID keep one app's, one user's pushes.
	App, OpenID string
	// Failed keeps the pushes whose status is PushFailed.
	Failed bool
	// Before is a cursor: only pushes whose message's journal sequence is below it (0: none).
	Before uint64
	// Limit is the most pushes to return (0: 20; at most 200).
	Limit int
	// Platform lists the pushes of that third-party platform instead (App and OpenID unused).
	Platform string
}

// Pushes returns the pushes of the delivery log that match q, newest first, and the cursor of
// the next page (0: none). The log is the journal's: it keeps what the journal keeps
// (policy.journal_cap entries per app).
func (s *Server) Pushes(ctx context.Context, q PushQuery) ([]PushLog, uint64, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 200)
	out := []PushLog{}
	if q.Platform != "" {
		return s.platformPushes(ctx, q, limit)
	}
	before := q.Before
	for {
		batch := limit * 2
		es, err := s.store.Journal(ctx, store.Query{App: q.App, OpenID: q.OpenID, Endpoint: store.EndpointUserMessage, Before: before, Limit: batch})
		if err != nil {
			return nil, 0, storeFailed(err)
		}
		var msgs []store.Entry
		for _, e := range es {
			if e.Push != nil && e.Push.MsgID != 0 { // else no push configuration: nothing was pushed
				msgs = append(msgs, e)
			}
		}
		logs, err := s.pushLogsOf(ctx, msgs)
		if err != nil {
			return nil, 0, err
		}
		for _, p := range logs {
			if q.Failed && p.Status != PushFailed {
				continue
			}
			out = append(out, p)
			if len(out) == limit {
				return out, p.Message.Seq, nil
			}
		}
		if len(es) < batch {
			return out, 0, nil
		}
		before = es[len(es)-1].Seq
	}
}

// pushLogsOf gathers the attempts of the pushes of the users' messages msgs (newest first), with
// one journal read per app: the attempts of a push follow its message in the journal.
func (s *Server) pushLogsOf(ctx context.Context, msgs []store.Entry) ([]PushLog, error) {
	oldest := map[string]uint64{}
	for _, m := range msgs {
		if o, ok := oldest[m.App]; !ok || m.Seq < o {
			oldest[m.App] = m.Seq
		}
	}
	attempts := map[int64][]store.Entry{}
	for app, after := range oldest {
		es, err := s.store.Journal(ctx, store.Query{App: app, Endpoint: store.EndpointPush, After: after})
		if err != nil {
			return nil, storeFailed(err)
		}
		for i := len(es) - 1; i >= 0; i-- { // oldest first
			if e := es[i]; e.Push != nil {
				attempts[e.Push.MsgID] = append(attempts[e.Push.MsgID], e)
			}
		}
	}
	out := make([]PushLog, 0, len(msgs))
	for _, m := range msgs {
		as := attempts[m.Push.MsgID]
		if as == nil {
			as = []store.Entry{}
		}
		out = append(out, PushLog{MsgID: m.Push.MsgID, App: m.App, OpenID: m.OpenID, MsgType: m.MsgType, Created: m.AppTime,
			Message: m, Attempts: as, Status: pushStatus(as)})
	}
	return out, nil
}

// Push returns the push msgID of the delivery log; false when the journal holds no such push.
func (s *Server) Push(ctx context.Context, msgID int64) (PushLog, bool, error) {
	es, err := s.store.Journal(ctx, store.Query{Endpoint: store.EndpointUserMessage, MsgID: msgID, Limit: 1})
	if err != nil {
		return PushLog{}, false, storeFailed(err)
	}
	if len(es) == 0 {
		return s.platformPushLog(ctx, msgID)
	}
	ps, err := s.pushLogsOf(ctx, es)
	if err != nil {
		return PushLog{}, false, err
	}
	return ps[0], true, nil
}

// pushStatus derives a push's status from its attempts, oldest first: delivered once an
// attempt was acknowledged; failed when the last delivery made its last attempt and was not
// cut short; else pending.
func pushStatus(attempts []store.Entry) string {
	for _, e := range attempts {
		if e.Code == 0 && !e.Push.Duplicate {
			return PushDelivered
		}
	}
	if n := len(attempts); n > 0 {
		last := attempts[n-1].Push
		if last.Attempt >= last.Attempts && last.Verdict != VerdictCanceled {
			return PushFailed
		}
	}
	return PushPending
}

// Redeliver sends the push msgID again, as GET /__admin/pushes/{msg_id}/redeliver asks: the
// request of its first recorded attempt, byte for byte (same MsgId, CreateTime, timestamp,
// nonce and signatures: Baidu does not document what its own resends change [inf]), to the URL
// of the app's push configuration in force, with its attempts and timeout, and no push fault.
// The attempts are journaled as a new delivery of the push, marked as a redelivery. With queue,
// it answers as soon as the push is in the outbox. Its errors are *Error: ErrNotFound (no such
// push in the journal), ErrInvalid (no recorded attempt, or no push configuration now), ErrBusy,
// ErrStore.
func (s *Server) Redeliver(ctx context.Context, msgID int64, queue bool) (UserWrote, error) {
	p, ok, err := s.Push(ctx, msgID)
	if err != nil {
		return UserWrote{}, err
	}
	if !ok {
		return UserWrote{}, &Error{Code: ErrNotFound, Message: fmt.Sprintf("no push with MsgId %d in the journal", msgID)}
	}
	if p.Platform != "" {
		return s.redeliverPlatform(ctx, p, queue)
	}
	var first *store.PushRequest
	deliveries := 0
	for _, e := range p.Attempts {
		if first == nil && e.Push.Request != nil {
			first = e.Push.Request
		}
		deliveries = max(deliveries, e.Push.Delivery)
	}
	if first == nil {
		return UserWrote{}, invalid("MsgId %d has no recorded attempt to send again (still in the outbox, or journaled before attempts kept their request)", msgID)
	}
	if first.Truncated {
		return UserWrote{}, invalid("the request of MsgId %d was over %d KiB and is kept cut: it cannot be sent again byte for byte", msgID, maxRecordedBody>>10)
	}
	app, ok, err := s.store.App(ctx, p.App)
	if err != nil {
		return UserWrote{}, storeFailed(err)
	}
	if !ok {
		return UserWrote{}, &Error{Code: ErrNotFound, Message: fmt.Sprintf("unknown app %q", p.App)}
	}
	cfg, _, err := s.AppPush(ctx, app.ID)
	if err != nil {
		return UserWrote{}, storeFailed(err)
	}
	if cfg == nil {
		return UserWrote{}, invalid("app %s has no push configuration now: nowhere to send MsgId %d", app.ID, msgID)
	}
	if d := s.delivery.Load(); d != nil {
		if err := d.admit(ctx); err != nil {
			return UserWrote{}, err
		}
	}
	m := baidupush.Message{ToUserName: app.ID, FromUserName: p.OpenID, CreateTime: p.Created.Unix(), MsgType: p.MsgType, MsgID: msgID}
	job := deliveryJob{App: app.ID, ClientID: app.ClientID, AppNow: p.Created, Push: *cfg, Msgs: []baidupush.Message{m},
		Resend: first, Redelivery: true, DeliveryBase: deliveries, Enqueued: s.now()}
	rs, err := s.dispatch(ctx, job, !queue)
	if err != nil {
		return UserWrote{}, err
	}
	out := UserWrote{App: app.ID, OpenID: p.OpenID, CreateTime: p.Created, Results: rs}
	out.Outcome, out.Summary = summarize(rs)
	out.Summary = "redelivery; " + out.Summary[len("window open; "):]
	return out, nil
}
