package mockserver

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
)

// The third-party platform's pushes: the ticket (on a schedule and on demand) and the
// authorization events (on demand), encrypted in the documented envelope and delivered to
// platforms[].push.url, and their log, which GetMsgPath answers (servePushLog).
//
// Each push is encoded once and goes through the outbox as a bot's push does (tpoutbox.go): it
// is journaled under the app "platform:<key>" with endpoint EndpointPlatformPush pending (Code 0)
// when made, each attempt of each delivery with EndpointPlatformPushAttempt (request bytes and
// verdict), and, when a delivery ends, delivered (1) or failed (2), with Push.MsgID the push id
// (drawn from the store's MsgId counter, so ids are unique across replicas), Push.Attempts the
// attempts made, Push.Answer the last answer, and Params the event ("event"), the encrypted
// content ("content") and the plain message ("message"). The newest status entry of an id is the
// push's status; a redelivery journals it pending again until its delivery ends.

// EndpointPlatformPush is the journal endpoint of a third-party platform's push.
const EndpointPlatformPush = "tp_push"

// The statuses of a platform push, as pushmsg/getmsg answers them.
const (
	// PlatformPushPending is 待推送: journaled, not yet acknowledged or given up.
	PlatformPushPending = 0
	// PlatformPushDelivered is 推送成功.
	PlatformPushDelivered = 1
	// PlatformPushFailed is 推送失败.
	PlatformPushFailed = 2
)

// platformJournalApp is the journal tenant of a platform's pushes.
func platformJournalApp(key string) string { return "platform:" + key }

// PlatformEventTicket is the event name of a ticket push in PlatformPush (and in getmsg's log).
const PlatformEventTicket = "ticket"

// PlatformEvents are the pushes PlatformPush makes.
var PlatformEvents = []string{PlatformEventTicket, baidupush.EventAuthorized, baidupush.EventUnauthorized, baidupush.EventUpdateAuthorized}

// PlatformPushed is what PlatformPush did.
type PlatformPushed struct {
	// Platform is the platform's key; ID the push id (getmsg's list[].id).
	Platform string
	ID       int64
	// Event is "ticket" or the authorization event.
	Event string
	// Message is the plain JSON pushed (encrypted on the wire).
	Message string
	// Content is the Encrypt field: what getmsg lists as the push's content.
	Content string
	// Status is PlatformPushDelivered or PlatformPushFailed.
	Status int
	// Result is the delivery, every attempt with the platform's answer.
	Result baidupush.Result
}

// ErrNoPlatformPush is returned (wrapped in an *Error ErrInvalid) for a platform without
// platforms[].push.
var ErrNoPlatformPush = errors.New("no platforms[].push")

// PlatformPush pushes a configured platform its ticket (event "ticket") or an authorization
// event (AUTHORIZED, UPDATE_AUTHORIZED: with a fresh authorization code of app, exchangeable at
// TPOAuthPath; UNAUTHORIZED: none) to platforms[].push.url, and journals it for getmsg. The
// fake's grants are its configuration's (apps[].platforms): an event changes none of them [inf].
// With a delivery loop (StartDelivery) the push goes through the outbox and PlatformPush waits
// for its delivery, on whichever replica makes it; without one it delivers within the call.
// Its errors are *Error: ErrNotFound (platform or app), ErrInvalid (the event, a platform without
// push), ErrBusy (the outbox is full), ErrStore.
func (s *Server) PlatformPush(ctx context.Context, platform, event, app string) (PlatformPushed, error) {
	return s.platformPush(ctx, platform, event, app, false)
}

// PlatformPushQueued is PlatformPush answering as soon as the push is in the outbox (Status
// PlatformPushPending, Result.Outcome OutcomeQueued): its delivery is followed in the delivery log
// and in getmsg. Without a delivery loop it delivers within the call, as PlatformPush.
func (s *Server) PlatformPushQueued(ctx context.Context, platform, event, app string) (PlatformPushed, error) {
	return s.platformPush(ctx, platform, event, app, true)
}

func (s *Server) platformPush(ctx context.Context, platform, event, app string, queue bool) (PlatformPushed, error) {
	pl, ok := s.cfg.Platform(platform)
	if !ok {
		return PlatformPushed{}, &Error{Code: ErrNotFound, Message: fmt.Sprintf("unknown platform %q (platforms[].key)", platform)}
	}
	if pl.Push == nil {
		return PlatformPushed{}, &Error{Code: ErrInvalid, Message: fmt.Sprintf("platform %q has no platforms[].push: nowhere to push", platform), Err: ErrNoPlatformPush}
	}
	now := s.now()
	var msg any
	switch event {
	case PlatformEventTicket:
		msg = baidupush.TicketMessage{Ticket: pl.Ticket, FromUserName: baidupush.PlatformFromUserName, CreateTime: now.Unix(),
			MsgType: baidupush.MsgTypeTicket, Event: baidupush.EventPush}
	case baidupush.EventAuthorized, baidupush.EventUnauthorized, baidupush.EventUpdateAuthorized:
		if app == "" {
			return PlatformPushed{}, invalid("app: required for %s (the mini program of the authorization)", event)
		}
		a, found, err := s.store.App(ctx, app)
		if err != nil {
			return PlatformPushed{}, storeFailed(err)
		}
		if !found {
			return PlatformPushed{}, &Error{Code: ErrNotFound, Message: fmt.Sprintf("unknown app %q", app)}
		}
		appNow := a.Now(now)
		ev := baidupush.AuthorizationEvent{AppID: numericOr(a.ID), TPAppID: tpAppID(pl), Event: event,
			EventTime: appNow.In(chinaTime).Format(baidupush.EventTimeLayout)}
		if event != baidupush.EventUnauthorized {
			code, _, err := s.AuthorizePlatform(ctx, platform, a.ID)
			if err != nil {
				return PlatformPushed{}, storeFailed(err)
			}
			ev.AuthorizationCode, ev.AuthorizationCodeExpiresIn = code, AuthorizationCodeExpiresIn
		}
		msg = ev
	default:
		return PlatformPushed{}, invalid("event: %q; want %s", event, strings.Join(PlatformEvents, ", "))
	}
	body, err := baidupush.MarshalPlatform(msg)
	if err != nil {
		return PlatformPushed{}, invalid("%v", err)
	}
	pusher, ok := s.store.(store.Pusher)
	if !ok {
		return PlatformPushed{}, &Error{Code: ErrUnsupported, Message: fmt.Sprintf("the store (%T) keeps no push counter (store.Pusher)", s.store)}
	}
	if d := s.delivery.Load(); d != nil {
		if err := d.admit(ctx); err != nil {
			return PlatformPushed{}, err
		}
	}
	n, err := pusher.NextMsgID(ctx)
	if err != nil {
		return PlatformPushed{}, storeFailed(err)
	}
	c := pl.Push.Wire(pl.Key)
	params, err := baidupush.NewParams(baidupush.WithClock(func() time.Time { return now }))
	if err != nil {
		return PlatformPushed{}, invalid("%v", err)
	}
	req, content, err := baidupush.EncodePlatform(c, body, params)
	if err != nil {
		return PlatformPushed{}, invalid("platforms[].push: %v", err)
	}
	p := &platformJob{Key: pl.Key, ID: int64(n), Event: event, Message: string(body), Content: content, Push: *pl.Push,
		Request: *recordedRequest(c.URL, req), Created: now}
	s.recordPlatformPush(ctx, p.pushed(PlatformPushPending, baidupush.Result{}), now, PlatformPushPending, "pushing to "+pl.Push.URL, nil, 1)
	rs, err := s.dispatch(ctx, s.platformDeliveryJob(p, false, 0), !queue)
	if err != nil {
		return PlatformPushed{}, err
	}
	out := p.pushed(PlatformPushPending, rs[0])
	switch {
	case rs[0].Delivered():
		out.Status = PlatformPushDelivered
	case rs[0].Outcome != OutcomeQueued:
		out.Status = PlatformPushFailed
	}
	return out, nil
}

// chinaTime is Beijing time, in which Baidu writes eventTime [inf].
var chinaTime = time.FixedZone("CST", 8*3600)

// numericOr returns id as a number when it is one (Baidu's appId is a long), else the string [inf].
func numericOr(id string) any {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		return n
	}
	return id
}

// tpAppID is the platform's tpAppId: platforms[].push.tp_app_id, or 8 digits derived from its
// key [inf].
func tpAppID(pl config.Platform) int64 {
	if pl.Push.TPAppID > 0 {
		return pl.Push.TPAppID
	}
	sum := sha256.Sum256([]byte("smartappmock-tp-app-id:" + pl.Key))
	return 10_000_000 + int64(binary.BigEndian.Uint32(sum[:])%90_000_000)
}

// recordPlatformPush journals a platform push in one of its states.
// delivery numbers the push's delivery the status belongs to (1 for its first).
func (s *Server) recordPlatformPush(ctx context.Context, p PlatformPushed, at time.Time, status int, reason string, attempts []baidupush.Attempt, delivery int) {
	id := fmt.Sprintf("%s-%d-%d", EndpointPlatformPush, p.ID, status)
	if delivery > 1 {
		id = fmt.Sprintf("%s-d%d", id, delivery)
	}
	e := store.Entry{ID: id, Time: s.now(), AppTime: at,
		App: platformJournalApp(p.Platform), Endpoint: EndpointPlatformPush, Method: http.MethodPost, Layer: LayerPush,
		Code: status, Reason: reason, Params: []store.Param{
			{Name: "event", Value: p.Event, Source: "push", Used: true},
			{Name: "content", Value: p.Content, Source: "push", Used: true},
			{Name: "message", Value: p.Message, Source: "push", Used: true},
		}, Push: &store.PushAttempt{MsgID: p.ID, Mode: string(baidupush.ModeSecure)}}
	if n := len(attempts); n > 0 {
		last := attempts[n-1]
		e.Status, e.LatencyMicros = last.Status, last.Latency.Microseconds()
		e.Push.Attempt, e.Push.Attempts, e.Push.Answer = n, n, last.Body
	}
	if _, err := s.Record(ctx, e); err != nil {
		s.log.Error("journal append failed", "id", e.ID, "err", err)
	}
}

// RunTicketSchedule pushes each platform with platforms[].push its ticket every
// platforms[].push.ticket_every (default 10 minutes; the first one period after the start
// [inf]) until ctx ends. Replicas on one store push each period's ticket once: the first to
// take the period's count pushes it.
func (s *Server) RunTicketSchedule(ctx context.Context) {
	done := make(chan struct{})
	n := 0
	for _, pl := range s.cfg.Platforms {
		if pl.Push == nil || pl.Push.Every() <= 0 {
			continue
		}
		n++
		go func(key string, every time.Duration) {
			defer func() { done <- struct{}{} }()
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				var tick time.Time
				select {
				case <-ctx.Done():
					return
				case tick = <-t.C:
				}
				// The period is named on the wall clock the ticker runs on (the server clock may
				// be frozen in tests), so replicas agree on it.
				period := strconv.FormatInt(tick.UnixNano()/int64(every), 10)
				if _, first, err := s.store.TakeCount(ctx, store.NoApp, "tp-ticket:"+key, period, 1); err != nil || !first {
					continue // another replica pushed this period's ticket, or the store is away
				}
				if _, err := s.PlatformPushQueued(ctx, key, PlatformEventTicket, ""); err != nil {
					s.log.Error("scheduled ticket push failed", "platform", key, "err", err)
				}
			}
		}(pl.Key, pl.Push.Every())
	}
	for range n {
		<-done
	}
}

// PushLogItem is one push of getmsg's list.
type PushLogItem struct {
	ID      int64  `json:"id"`
	Content string `json:"content"`
	Status  int    `json:"status"`
}

// The bounds of getmsg's time range (seconds) [inf: Baidu's SDK comments state them, not the
// unit; Unix seconds as in their examples].
const (
	getMsgDefaultRange = 24 * time.Hour
	getMsgMaxRange     = 7 * 24 * time.Hour
	getMsgMaxAge       = 30 * 24 * time.Hour
	getMsgMaxCount     = 100
)

// servePushLog answers GetMsgPath: the platform's pushes the fake made, from the journal, newest
// status of each. A platform token (42.) names the platform. start and end (Unix seconds) default
// to the last day; start may not be more than a month back and the range not more than a week;
// push_type 1 is every push, 2 the failed ones; offset and count (at most 100) page the list;
// id_list (ids joined by commas) picks pushes and ignores the other filters. Errors are business
// envelopes with 40001 参数错误 (Baidu documents no codes for this endpoint [inf]); a bad token is
// a gateway error, as on the other platform endpoints.
func (s *Server) servePushLog(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	p := s.tpParams(r)
	e := s.tpEntry(r, "tp_getmsg", start, p)
	token, _ := p.Get(smartappmock.ParamAccessToken)
	e.Token = RedactToken(token)
	tag, code, reason, warnings := s.platformToken(r.Context(), token, start)
	if code != 0 {
		s.tpGateway(w, r, e, code, reason, start)
		return
	}
	e.Warnings = warnings
	refuse := func(format string, args ...any) {
		s.tpRefuse(w, r, e, smartappmock.ErrnoTPInvalidParameter, fmt.Sprintf(format, args...), start)
	}
	intParam := func(name string, def int64) (int64, bool) {
		v, ok := p.Get(name)
		if !ok || v == "" {
			return def, true
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			refuse("%s: %q is not an integer", name, v)
			return 0, false
		}
		return n, true
	}
	from, ok := intParam("start", start.Add(-getMsgDefaultRange).Unix())
	if !ok {
		return
	}
	to, ok := intParam("end", start.Unix())
	if !ok {
		return
	}
	pushType, ok := intParam("push_type", 1)
	if !ok {
		return
	}
	offset, ok := intParam("offset", 0)
	if !ok {
		return
	}
	count, ok := intParam("count", getMsgMaxCount)
	if !ok {
		return
	}
	idList, _ := p.Get("id_list")
	ids := map[int64]bool{}
	for _, f := range strings.Split(idList, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			refuse("id_list: %q is not a push id (ids joined by commas)", f)
			return
		}
		ids[n] = true
	}
	if len(ids) == 0 {
		switch {
		case pushType != 1 && pushType != 2:
			refuse("push_type: %d; want 1 (every push) or 2 (failed pushes)", pushType)
			return
		case from > to:
			refuse("start: %d is after end %d", from, to)
			return
		case start.Unix()-from > int64(getMsgMaxAge/time.Second):
			refuse("start: %d is more than a month back (起始时间不可超过一个月)", from)
			return
		case to-from > int64(getMsgMaxRange/time.Second):
			refuse("start to end: %d seconds, more than a week (最大时间范围不可超过一周)", to-from)
			return
		}
	}
	if offset < 0 || count < 1 || count > getMsgMaxCount {
		refuse("offset %d, count %d: want offset at least 0 and count 1 to %d", offset, count, getMsgMaxCount)
		return
	}
	platform, known := s.platformOfTag(tag)
	list := []PushLogItem{}
	if known {
		entries, err := s.store.Journal(r.Context(), store.Query{App: platformJournalApp(platform.Key), Endpoint: EndpointPlatformPush})
		if err != nil {
			s.tpGateway(w, r, e, smartappmock.CodeUnavailable, "store: "+err.Error(), start)
			return
		}
		list = pushLog(entries, ids, from, to, pushType == 2)
	}
	total := len(list)
	page := list[min(int(offset), total):min(int(offset+count), total)]
	e.Layer, e.Code = smartappmock.LayerBusiness, smartappmock.ErrnoOK
	e.Reason = fmt.Sprintf("%d of %d pushes", len(page), total)
	s.tpAnswer(w, r, e, mustJSON(tpEnvelope{Errno: 0, Msg: "success", Data: map[string]any{
		"page": int(offset / count), "pageSize": int(count), "count": total, "list": page,
	}}), start)
}

// pushLog returns the pushes of entries (newest first, as the journal gives them): each id's
// newest status, those picked by ids, else those created within [from, to] (failed ones only
// when failedOnly), newest first.
func pushLog(entries []store.Entry, ids map[int64]bool, from, to int64, failedOnly bool) []PushLogItem {
	type push struct {
		item    PushLogItem
		created int64
	}
	byID := map[int64]*push{}
	var order []int64
	for _, e := range entries {
		if e.Push == nil {
			continue
		}
		id := e.Push.MsgID
		p, seen := byID[id]
		if !seen { // the newest entry of an id: its status
			p = &push{item: PushLogItem{ID: id, Status: e.Code}}
			for _, prm := range e.Params {
				if prm.Name == "content" {
					p.item.Content = prm.Value
				}
			}
			byID[id] = p
			order = append(order, id)
		}
		p.created = e.Time.Unix() // the oldest entry of an id is its creation
	}
	var out []PushLogItem
	for _, id := range order {
		p := byID[id]
		switch {
		case len(ids) > 0:
			if !ids[id] {
				continue
			}
		case p.created < from || p.created > to:
			continue
		case failedOnly && p.item.Status != PlatformPushFailed:
			continue
		}
		out = append(out, p.item)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	if out == nil {
		out = []PushLogItem{}
	}
	return out
}
