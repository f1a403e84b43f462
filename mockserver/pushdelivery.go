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
	now := app.Now(s.now())
	client := baidupush.NewClient()
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

// deliverPushes pushes msgs under cfg with the app's and the call's push faults, journaling
// every attempt as it happens.
func (s *Server) deliverPushes(ctx context.Context, app store.App, now time.Time, cfg config.Push, faults []config.PushFault, msgs []baidupush.Message) []baidupush.Result {
	c := cfg.Config.WithDefaults(app.ClientID)
	byID := make(map[int64]baidupush.Message, len(msgs))
	for _, m := range msgs {
		byID[m.MsgID] = m
	}
	all := append(s.pushPlans(ctx, app.ID, cfg), faults...)
	var kinds []string
	for _, f := range all {
		kinds = append(kinds, f.Kind)
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
			s.recordPush(ctx, app.ID, now, byID[msgID], store.EndpointPush, code, reason, &pushAttempt{at, c, kinds})
		}))
	client := baidupush.NewClient()
	defer client.CloseIdleConnections() // no connection outlives the call
	return baidupush.DeliverAll(ctx, client, c, msgs, opts...)
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
	at     baidupush.Attempt
	cfg    baidupush.Config // with its defaults
	faults []string         // the kinds of the delivery's push faults
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
	}
	if _, err := s.Record(ctx, e); err != nil {
		s.log.Error("journal append failed", "id", e.ID, "err", err)
	}
}
