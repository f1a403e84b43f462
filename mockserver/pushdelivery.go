package mockserver

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
)

// The message push of the core: where an app's push configuration comes from, setting it (after
// Baidu's verification handshake), and delivering the messages of UserWrites with the push
// faults, each attempt journaled.

// LayerPush is the layer of the journal entries of the message push.
const LayerPush smartappmock.Layer = "push"

// The sources of an app's push configuration (AppPush).
const (
	// PushSourceAdmin is a configuration set at run time (SetPush, PUT /__admin/apps/{app}/push).
	PushSourceAdmin = "admin"
	// PushSourceConfig is apps[].push of the configuration file.
	PushSourceConfig = "config"
)

// AppPush returns the push configuration in force for app and where it comes from: the one set
// with SetPush (PushSourceAdmin), else apps[].push of the configuration file (PushSourceConfig);
// nil when there is none, or push was switched off (an empty stored configuration).
func (s *Server) AppPush(ctx context.Context, app string) (*config.Push, string, error) {
	if p, ok := s.store.(store.Pusher); ok {
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
			return &c, PushSourceAdmin, nil
		}
	}
	if ca, ok := s.ConfiguredApp(app); ok && ca.Push != nil {
		c := *ca.Push
		return &c, PushSourceConfig, nil
	}
	return nil, "", nil
}

// SetPush checks a push configuration for app, runs Baidu's verification handshake against its
// URL and, when the bot echoes echoStr byte for byte, stores it for every server on the store.
// It returns the configuration in force, its defaults filled in. Its errors are *Error:
// ErrNotFound, ErrUnsupported (a store without store.Pusher), ErrInvalid (every problem of the
// configuration, "; "-separated), ErrRefused (wrapping the *baidupush.HandshakeError), ErrStore.
func (s *Server) SetPush(ctx context.Context, appID string, in config.Push) (config.Push, error) {
	app, ok, err := s.store.App(ctx, appID)
	if err != nil {
		return config.Push{}, storeFailed(err)
	}
	if !ok {
		return config.Push{}, &Error{Code: ErrNotFound, Message: fmt.Sprintf("unknown app %q", appID)}
	}
	p, ok := s.store.(store.Pusher)
	if !ok {
		return config.Push{}, &Error{Code: ErrUnsupported, Message: fmt.Sprintf("the store (%T) keeps no push configuration (store.Pusher)", s.store)}
	}
	if errs := in.Check("push", app.ClientID); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Path + ": " + e.Reason
		}
		return config.Push{}, invalid("%s", strings.Join(msgs, "; "))
	}
	c := in.Config.WithDefaults(app.ClientID)
	if err := s.checkPushTarget(ctx, c.URL); err != nil {
		return config.Push{}, err
	}
	now := app.Now(s.now())
	client := s.pushClient()
	defer client.CloseIdleConnections()
	if err := baidupush.Handshake(ctx, client, c, baidupush.WithClock(func() time.Time { return now })); err != nil {
		return config.Push{}, &Error{Code: ErrRefused, Message: "handshake refused, configuration not saved: " + err.Error(), Err: err}
	}
	b, err := json.Marshal(in)
	if err == nil {
		err = p.PutPush(ctx, app.ID, b)
	}
	if err != nil {
		return config.Push{}, storeFailed(err)
	}
	in.Config = c
	return in, nil
}

// deliveryJob is one delivery as the outbox holds it (JSON): everything a replica needs to make
// it, decided when the user wrote, so that any replica delivers it the same way.
type deliveryJob struct {
	// App is the app's id; ClientID its client_id (the default trailing id of encrypted pushes).
	App      string `json:"app"`
	ClientID string `json:"client_id"`
	// AppNow is the app's clock when the user wrote: the pushes' CreateTime and timestamp.
	AppNow time.Time `json:"app_now"`
	// Push is the configuration in force when the user wrote.
	Push config.Push `json:"push"`
	// Faults are the push faults that strike the delivery (the app's counted ones resolved).
	Faults []config.PushFault `json:"faults,omitempty"`
	// Msgs are the messages, delivered in one go (out_of_order reverses them).
	Msgs []baidupush.Message `json:"msgs"`
	// Fields, when set, is a free-form push (PushFields): its fields are pushed as they are, and
	// Msgs holds one message naming it (MsgId, user, type) for the log.
	Fields baidupush.Fields `json:"fields,omitempty"`
	// Resend, on a redelivery, is the recorded request of the push, sent again byte for byte.
	Resend *store.PushRequest `json:"resend,omitempty"`
	// Redelivery marks a redelivery; DeliveryBase is the number of deliveries of the push
	// before this job (its first delivery is DeliveryBase+1).
	Redelivery   bool `json:"redelivery,omitempty"`
	DeliveryBase int  `json:"delivery_base,omitempty"`
	// Enqueued is when the job entered the outbox (server clock).
	Enqueued time.Time `json:"enqueued"`
	// Platform, when set, makes the job a third-party platform's push (its ticket or an
	// authorization event): Msgs holds one message naming it (its id, its event), App is the
	// platform's journal tenant, and Push, Faults and Fields are unused.
	Platform *platformJob `json:"platform,omitempty"`
}

// deliveryRun says which delivery of a job an attempt belongs to, and who makes it.
type deliveryRun struct {
	delivery   int    // 1, or more after a lease expired, a release or a redelivery
	replica    string // the outbox consumer ("" when delivered within the call)
	redelivery bool
}

// deliverJob makes the delivery of job, journaling every attempt (its request byte for byte) as
// it happens.
func (s *Server) deliverJob(ctx context.Context, job deliveryJob, run deliveryRun) []baidupush.Result {
	if job.Platform != nil {
		return []baidupush.Result{s.deliverPlatform(ctx, job, run)}
	}
	c := job.Push.Config.WithDefaults(job.ClientID)
	byID := make(map[int64]baidupush.Message, len(job.Msgs))
	for _, m := range job.Msgs {
		byID[m.MsgID] = m
	}
	var kinds []string
	forged := false
	for _, f := range job.Faults {
		kinds = append(kinds, f.Kind)
		forged = forged || f.Kind == config.PushFaultWrongSignature
	}
	sent := map[int64]*store.PushRequest{} // the request of each message's attempt in progress
	now := job.AppNow
	opts := append(config.PushOptions(job.Faults),
		baidupush.WithClock(func() time.Time { return now }),
		baidupush.OnRequest(func(msgID int64, _ int, r *baidupush.Request) {
			sent[msgID] = recordedRequest(c.URL, r)
		}),
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
			if run.delivery > 1 {
				reason = fmt.Sprintf("delivery %d, %s", run.delivery, reason)
			}
			s.recordPush(context.WithoutCancel(ctx), job.App, now, byID[msgID], store.EndpointPush, code, reason,
				&pushAttempt{at: at, cfg: c, faults: kinds, run: run, request: sent[msgID], verdict: verdict(at, forged)})
		}))
	client := s.pushClient()
	defer client.CloseIdleConnections() // no connection outlives the delivery
	if job.Resend != nil && len(job.Msgs) == 1 {
		req, err := resentRequest(c.URL, job.Msgs[0].MsgID, job.Resend)
		if err != nil {
			return []baidupush.Result{{MsgID: job.Msgs[0].MsgID, Outcome: baidupush.OutcomeInvalid, Reason: err.Error(), Attempts: []baidupush.Attempt{}}}
		}
		return []baidupush.Result{baidupush.Resend(ctx, client, c, req, opts...)}
	}
	if job.Fields != nil && len(job.Msgs) == 1 {
		return []baidupush.Result{baidupush.DeliverFields(ctx, client, c, job.Fields, job.Msgs[0].MsgID, opts...)}
	}
	return baidupush.DeliverAll(ctx, client, c, job.Msgs, opts...)
}

// maxRecordedBody bounds the body an attempt's journal entry keeps (the journal's memory is
// bounded by its entry cap): a longer one is kept cut, and cannot be redelivered.
const maxRecordedBody = 64 << 10

// recordedRequest is r as it goes to target: the URL with r's query merged, and the body.
func recordedRequest(target string, r *baidupush.Request) *store.PushRequest {
	out := &store.PushRequest{URL: target, ContentType: r.ContentType, Body: string(r.Body)}
	if len(r.Body) > maxRecordedBody {
		out.Body, out.Truncated = string(r.Body[:maxRecordedBody]), true
	}
	if hr, err := r.HTTPRequest(context.Background(), target); err == nil {
		out.URL = hr.URL.String()
	}
	return out
}

// resentRequest rebuilds the request recorded in rec for target (the URL in force): the query
// parameters the recorded URL added to its own target, and the body, unchanged.
func resentRequest(target string, msgID int64, rec *store.PushRequest) (*baidupush.Request, error) {
	u, err := url.Parse(rec.URL)
	if err != nil {
		return nil, fmt.Errorf("the recorded request's URL: %w", err)
	}
	q := u.Query()
	if t, err := url.Parse(target); err == nil {
		for k := range t.Query() { // the target brings its own again
			q.Del(k)
		}
	}
	return &baidupush.Request{Query: q, Body: []byte(rec.Body), ContentType: rec.ContentType, MsgID: msgID,
		Timestamp: q.Get(baidupush.ParamTimestamp), Nonce: q.Get(baidupush.ParamNonce), MsgSignature: q.Get(baidupush.ParamMsgSignature)}, nil
}

// The verdicts of a push attempt (store.PushAttempt.Verdict).
const (
	// VerdictAcknowledged is a 2xx answer with the body success or empty.
	VerdictAcknowledged = "acknowledged"
	// VerdictRefused is any other answer.
	VerdictRefused = "refused"
	// VerdictBadSignature is a refusal of a push whose signature the bot judged wrong, where the
	// fake can tell: the push was forged on purpose (wrong_signature), or the bot's answer names
	// the signature (a bot's refusal has no documented form: a bare 403 is VerdictRefused).
	VerdictBadSignature = "bad_signature"
	// VerdictTimedOut is no answer within the timeout.
	VerdictTimedOut = "timed_out"
	// VerdictUnreachable is a connection that failed (refused, reset, closed without an answer).
	VerdictUnreachable = "unreachable"
	// VerdictCanceled is an attempt cut short: the replica was stopping, or lost the lease.
	VerdictCanceled = "canceled"
)

// verdict judges an attempt; forged says the push's signature was corrupted on purpose.
func verdict(at baidupush.Attempt, forged bool) string {
	switch {
	case at.Acked:
		return VerdictAcknowledged
	case strings.HasPrefix(at.Reason, "canceled") || strings.Contains(at.Reason, ": canceled:"):
		return VerdictCanceled
	case strings.HasPrefix(at.Reason, "timeout") || strings.Contains(at.Reason, ": timeout"):
		return VerdictTimedOut
	case at.Status == 0:
		return VerdictUnreachable
	case forged, strings.Contains(strings.ToLower(at.Body), "signature"):
		return VerdictBadSignature
	}
	return VerdictRefused
}

// pushPlans returns the app's push faults that strike this push: a plan with Skip or Times is
// counted in the app's counter "push_fault:<i>" of a period named after the configuration, so
// servers on one store agree, a new configuration starts the counts again, and so does a reset
// of the app.
func (s *Server) pushPlans(ctx context.Context, app string, cfg config.Push) []config.PushFault {
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
		n, ok, err := s.store.TakeCount(ctx, app, "push_fault:"+strconv.Itoa(i), period, limit)
		if err != nil {
			s.log.Error("push fault count failed", "app", app, "err", err)
			continue
		}
		if ok && n > f.Skip {
			out = append(out, f)
		}
	}
	return out
}

// pushAttempt is one attempt of a delivery, as recordPush journals it.
type pushAttempt struct {
	at      baidupush.Attempt
	cfg     baidupush.Config // with its defaults
	faults  []string         // the kinds of the delivery's push faults
	run     deliveryRun
	request *store.PushRequest
	verdict string
}

// recordPush journals a user's message (at nil) or one attempt to push it.
func (s *Server) recordPush(ctx context.Context, app string, appNow time.Time, m baidupush.Message, endpoint string, code int, reason string, at *pushAttempt) {
	params := []store.Param{{Name: "msg_type", Value: m.MsgType, Source: "push", Used: true}}
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
		ID: id, Time: s.now(), AppTime: appNow, App: app,
		Endpoint: endpoint, Method: http.MethodPost, OpenID: m.FromUserName, MsgType: m.MsgType,
		Layer: LayerPush, Code: code, Reason: reason, Params: params,
		Push: &store.PushAttempt{MsgID: m.MsgID},
	}
	if at != nil {
		e.ID = fmt.Sprintf("%s-%d", e.ID, at.at.N)
		if at.run.delivery > 1 {
			e.ID = fmt.Sprintf("%s-d%d", e.ID, at.run.delivery)
		}
		if u, err := url.Parse(at.cfg.URL); err == nil {
			e.Path = u.Path
		}
		e.ContentType = "text/xml; charset=utf-8"
		if at.cfg.Format == baidupush.FormatJSON {
			e.ContentType = "application/json"
		}
		e.Status = at.at.Status
		e.LatencyMicros = at.at.Latency.Microseconds()
		e.Push.Attempt, e.Push.Attempts = at.at.N, at.cfg.Attempts()
		e.Push.Mode, e.Push.Duplicate = string(at.cfg.Mode), at.at.Duplicate
		e.Push.Answer, e.Push.Faults = at.at.Body, at.faults
		e.Push.AnswerTruncated = at.at.Truncated
		e.Push.Delivery, e.Push.Replica, e.Push.Redelivery = max(at.run.delivery, 1), at.run.replica, at.run.redelivery
		e.Push.Verdict, e.Push.Request = at.verdict, at.request
	}
	if _, err := s.Record(ctx, e); err != nil {
		s.log.Error("journal append failed", "id", e.ID, "err", err)
	}
}
