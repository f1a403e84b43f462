package mockserver

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
)

// A platform's pushes go through the outbox as the bot pushes do: PlatformPush encodes the push
// once, journals it pending, and dispatches a deliveryJob whose Platform field holds the encoded
// request; whichever replica claims the job sends those bytes (deliverPlatform), journals each
// attempt (EndpointPlatformPushAttempt, request and verdict included), and journals the push's
// final status (settlePlatform) when the job is finished. A delivery cut short by a stopping
// replica journals no status: the push stays pending until another replica finishes it.

// EndpointPlatformPushAttempt is the journal endpoint of one attempt to deliver a platform push
// (app "platform:<key>", Push.MsgID the push id, Code 0 acknowledged, 1 not).
const EndpointPlatformPushAttempt = store.EndpointPlatformPushAttempt

// platformJob is the platform part of a deliveryJob: the push as PlatformPush built it.
type platformJob struct {
	// Key is the platform's key; ID the push id.
	Key string `json:"key"`
	ID  int64  `json:"id"`
	// Event, Message and Content are as in PlatformPushed.
	Event   string `json:"event"`
	Message string `json:"message"`
	Content string `json:"content"`
	// Push is the platform's push configuration when the push was made.
	Push config.PlatformPush `json:"push"`
	// Request is the encoded request, sent byte for byte by every attempt of every delivery.
	Request store.PushRequest `json:"request"`
	// Created is when the push was made (server clock): the journal time of its statuses.
	Created time.Time `json:"created"`
}

// pushed returns the job as PlatformPushed, with status and result.
func (p *platformJob) pushed(status int, r baidupush.Result) PlatformPushed {
	return PlatformPushed{Platform: p.Key, ID: p.ID, Event: p.Event, Message: p.Message, Content: p.Content, Status: status, Result: r}
}

// platformDeliveryJob wraps p in the outbox's job; base is the number of earlier deliveries.
func (s *Server) platformDeliveryJob(p *platformJob, redelivery bool, base int) deliveryJob {
	return deliveryJob{App: platformJournalApp(p.Key), ClientID: p.Key, AppNow: p.Created,
		Msgs:     []baidupush.Message{{MsgID: p.ID, MsgType: p.Event}},
		Platform: p, Redelivery: redelivery, DeliveryBase: base, Enqueued: s.now()}
}

// deliverPlatform makes one delivery of a platform push: the recorded request, to the URL of
// the job's configuration, each attempt journaled with its request and verdict.
func (s *Server) deliverPlatform(ctx context.Context, job deliveryJob, run deliveryRun) baidupush.Result {
	p := job.Platform
	wire := p.Push.Wire(p.Key)
	of := baidupush.Config{Retries: wire.Retries}.Attempts()
	req, err := resentRequest(wire.URL, p.ID, &p.Request)
	if err != nil {
		return baidupush.Result{MsgID: p.ID, Sequence: 1, Outcome: baidupush.OutcomeInvalid, Reason: err.Error(), Attempts: []baidupush.Attempt{}}
	}
	var sent *store.PushRequest
	client := baidupush.NewClient()
	defer client.CloseIdleConnections()
	return baidupush.DeliverPlatform(ctx, client, wire, req, p.ID,
		baidupush.OnRequest(func(_ int64, _ int, r *baidupush.Request) { sent = recordedRequest(wire.URL, r) }),
		baidupush.OnAttempt(func(_ int64, at baidupush.Attempt) {
			s.recordPlatformAttempt(context.WithoutCancel(ctx), p, run, of, at, sent)
		}))
}

// recordPlatformAttempt journals one attempt of a platform push.
func (s *Server) recordPlatformAttempt(ctx context.Context, p *platformJob, run deliveryRun, of int, at baidupush.Attempt, req *store.PushRequest) {
	code, reason := 1, fmt.Sprintf("attempt %d of %d: %s", at.N, of, at.Reason)
	if at.Acked {
		code, reason = 0, fmt.Sprintf("attempt %d of %d: acknowledged", at.N, of)
	}
	if run.delivery > 1 {
		reason = fmt.Sprintf("delivery %d, %s", run.delivery, reason)
	}
	id := fmt.Sprintf("%s-%d-%d", EndpointPlatformPushAttempt, p.ID, at.N)
	if run.delivery > 1 {
		id = fmt.Sprintf("%s-d%d", id, run.delivery)
	}
	e := store.Entry{ID: id, Time: s.now(), AppTime: p.Created, App: platformJournalApp(p.Key), Endpoint: EndpointPlatformPushAttempt,
		Method: http.MethodPost, ContentType: baidupush.ContentTypeJSON, Layer: LayerPush, Code: code, Reason: reason,
		Status: at.Status, LatencyMicros: at.Latency.Microseconds(),
		Params: []store.Param{{Name: "event", Value: p.Event, Source: "push", Used: true}},
		Push: &store.PushAttempt{MsgID: p.ID, Attempt: at.N, Attempts: of, Mode: string(baidupush.ModeSecure),
			Answer: at.Body, AnswerTruncated: at.Truncated, Delivery: max(run.delivery, 1), Replica: run.replica,
			Redelivery: run.redelivery, Verdict: verdict(at, false), Request: req}}
	if _, err := s.Record(ctx, e); err != nil {
		s.log.Error("journal append failed", "id", e.ID, "err", err)
	}
}

// settlePlatform journals the final status of a platform job's delivery (delivered or failed)
// from its result; a job that is not a platform push's is left alone.
func (s *Server) settlePlatform(ctx context.Context, job deliveryJob, run deliveryRun, rs []baidupush.Result) {
	p := job.Platform
	if p == nil || len(rs) == 0 {
		return
	}
	r := rs[0]
	status := PlatformPushFailed
	reason := fmt.Sprintf("%s not delivered (%s): %s", p.Event, r.Outcome, r.Reason)
	if r.Delivered() {
		status, reason = PlatformPushDelivered, fmt.Sprintf("%s delivered after %d attempt%s", p.Event, len(r.Attempts), plural(len(r.Attempts)))
		if len(r.Attempts) == 0 {
			reason = p.Event + " delivered: " + r.Reason
		}
	}
	if run.redelivery {
		reason = "redelivery; " + reason
	}
	s.recordPlatformPush(context.WithoutCancel(ctx), p.pushed(status, r), p.Created, status, reason, r.Attempts, max(run.delivery, 1))
}

// platformPushLog returns the platform push id of the delivery log: its first status entry and
// its attempts; false when the journal holds no such push.
func (s *Server) platformPushLog(ctx context.Context, id int64) (PushLog, bool, error) {
	es, err := s.store.Journal(ctx, store.Query{Endpoint: EndpointPlatformPush, MsgID: id})
	if err != nil {
		return PushLog{}, false, storeFailed(err)
	}
	if len(es) == 0 {
		return PushLog{}, false, nil
	}
	p, err := s.platformLogOf(ctx, es[len(es)-1])
	return p, err == nil, err
}

// platformLogOf is the delivery log's view of the platform push whose first status entry is
// first.
func (s *Server) platformLogOf(ctx context.Context, first store.Entry) (PushLog, error) {
	id := first.Push.MsgID
	es, err := s.store.Journal(ctx, store.Query{App: first.App, Endpoint: EndpointPlatformPushAttempt, MsgID: id})
	if err != nil {
		return PushLog{}, storeFailed(err)
	}
	as := make([]store.Entry, 0, len(es))
	for i := len(es) - 1; i >= 0; i-- { // oldest first
		if es[i].Push != nil {
			as = append(as, es[i])
		}
	}
	event := ""
	for _, prm := range first.Params {
		if prm.Name == "event" {
			event = prm.Value
		}
	}
	return PushLog{MsgID: id, App: first.App, MsgType: event, Created: first.AppTime, Message: first, Attempts: as,
		Status: pushStatus(as), Platform: strings.TrimPrefix(first.App, platformJournalApp(""))}, nil
}

// isPlatformPushCreation reports whether e is the first status entry of a platform push.
func isPlatformPushCreation(e store.Entry) bool {
	return e.Push != nil && e.ID == fmt.Sprintf("%s-%d-%d", EndpointPlatformPush, e.Push.MsgID, PlatformPushPending)
}

// platformPushes is Pushes for q.Platform: the platform's pushes, newest first.
func (s *Server) platformPushes(ctx context.Context, q PushQuery, limit int) ([]PushLog, uint64, error) {
	out := []PushLog{}
	before := q.Before
	for {
		batch := limit * 4
		es, err := s.store.Journal(ctx, store.Query{App: platformJournalApp(q.Platform), Endpoint: EndpointPlatformPush, Before: before, Limit: batch})
		if err != nil {
			return nil, 0, storeFailed(err)
		}
		for _, e := range es {
			if !isPlatformPushCreation(e) {
				continue
			}
			p, err := s.platformLogOf(ctx, e)
			if err != nil {
				return nil, 0, err
			}
			if q.Failed && p.Status != PushFailed {
				continue
			}
			out = append(out, p)
			if len(out) == limit {
				return out, e.Seq, nil
			}
		}
		if len(es) < batch {
			return out, 0, nil
		}
		before = es[len(es)-1].Seq
	}
}

// redeliverPlatform sends the platform push p again: the request of its first recorded attempt,
// byte for byte, to the URL of the platform's push configuration in force, as a new delivery
// journaled as a redelivery; the push is pending in getmsg until that delivery ends [inf].
func (s *Server) redeliverPlatform(ctx context.Context, p PushLog, queue bool) (UserWrote, error) {
	var first *store.PushRequest
	deliveries := 0
	for _, e := range p.Attempts {
		if first == nil && e.Push.Request != nil {
			first = e.Push.Request
		}
		deliveries = max(deliveries, e.Push.Delivery)
	}
	if first == nil {
		return UserWrote{}, invalid("push %d has no recorded attempt to send again (still in the outbox)", p.MsgID)
	}
	if first.Truncated {
		return UserWrote{}, invalid("the request of push %d was over %d KiB and is kept cut: it cannot be sent again byte for byte", p.MsgID, maxRecordedBody>>10)
	}
	pl, ok := s.cfg.Platform(p.Platform)
	if !ok || pl.Push == nil {
		return UserWrote{}, invalid("platform %q has no platforms[].push now: nowhere to send push %d", p.Platform, p.MsgID)
	}
	if d := s.delivery.Load(); d != nil {
		if err := d.admit(ctx); err != nil {
			return UserWrote{}, err
		}
	}
	job := &platformJob{Key: pl.Key, ID: p.MsgID, Event: p.MsgType, Push: *pl.Push, Request: *first, Created: p.Message.AppTime}
	for _, prm := range p.Message.Params {
		switch prm.Name {
		case "content":
			job.Content = prm.Value
		case "message":
			job.Message = prm.Value
		}
	}
	s.recordPlatformPush(ctx, job.pushed(PlatformPushPending, baidupush.Result{}), job.Created, PlatformPushPending,
		"redelivery; pushing to "+pl.Push.URL, nil, deliveries+1)
	rs, err := s.dispatch(ctx, s.platformDeliveryJob(job, true, deliveries), !queue)
	if err != nil {
		return UserWrote{}, err
	}
	out := UserWrote{App: p.App, CreateTime: p.Created, Results: rs}
	out.Outcome, out.Summary = summarize(rs)
	out.Summary = "redelivery; " + out.Summary[len("window open; "):]
	return out, nil
}
