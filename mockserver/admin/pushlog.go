package admin

// The delivery log of the message push, and redelivery. The handlers parse, call the API core
// (mockserver.Server's Pushes, Push and Redeliver) and render the typed log as JSON.
//
//	GET  /__admin/pushes                        pushes, newest first (app, open_id, failed, limit, before;
//	                                            platform: a third-party platform's pushes instead)
//	GET  /__admin/pushes/{msg_id}               one push and every attempt, request bytes included
//	POST /__admin/pushes/{msg_id}/redeliver     send it again (same MsgId, same bytes); ?wait=false: queued

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// PushLogView is one push of the delivery log.
type PushLogView struct {
	// MsgID is the push's MsgId.
	MsgID int64 `json:"msg_id"`
	// App, OpenID and MsgType say who wrote what to which app.
	App     string `json:"app"`
	OpenID  string `json:"open_id"`
	MsgType string `json:"msg_type"`
	// CreateTime is when the user wrote, on the app's clock (the push's CreateTime).
	CreateTime time.Time `json:"create_time"`
	// Status is "delivered", "failed" or "pending" (queued, in flight, or cut short).
	Status string `json:"status"`
	// Attempts are every attempt of every delivery, oldest first.
	Attempts []AttemptView `json:"attempts"`
	// Platform, for a third-party platform's push, is the platform's key: App is then
	// "platform:<key>", MsgID the push id (getmsg's id) and MsgType the event.
	Platform string `json:"platform,omitempty"`
}

// AttemptView is one attempt of a push, as the delivery log shows it.
type AttemptView struct {
	// ID is the attempt's journal entry id.
	ID string `json:"id"`
	// Time is when the attempt ended (server clock).
	Time time.Time `json:"time"`
	// Delivery numbers the deliveries of the push (more than 1 after a replica stopped
	// mid-way, or a redelivery); N numbers the attempts within it, of Of.
	Delivery int `json:"delivery"`
	N        int `json:"n"`
	Of       int `json:"of"`
	// Redelivery and Duplicate mark a redelivery's attempts and the duplicate fault's extra one.
	Redelivery bool `json:"redelivery,omitempty"`
	Duplicate  bool `json:"duplicate,omitempty"`
	// Replica is the replica that made the attempt ("" within the admin call).
	Replica string `json:"replica,omitempty"`
	// Verdict is acknowledged, refused, bad_signature, timed_out, unreachable or canceled.
	Verdict string `json:"verdict"`
	// Reason says why, in words.
	Reason string `json:"reason"`
	// Status is the bot's HTTP status (0: no answer); LatencyMicros the attempt's time.
	Status        int   `json:"status"`
	LatencyMicros int64 `json:"latency_us"`
	// Answer is the first bytes of the bot's answer; AnswerTruncated says there were more.
	Answer          string `json:"answer"`
	AnswerTruncated bool   `json:"answer_truncated,omitempty"`
	// Request is the request, byte for byte.
	Request *store.PushRequest `json:"request,omitempty"`
}

// PushList is the answer of GET /__admin/pushes.
type PushList struct {
	// Pushes are newest first.
	Pushes []PushLogView `json:"pushes"`
	// NextBefore is the cursor of the next page (before=…), 0 when there is none.
	NextBefore uint64 `json:"next_before,omitempty"`
}

// PushLogOf renders a push of the core's delivery log.
func PushLogOf(p mockserver.PushLog) PushLogView {
	v := PushLogView{MsgID: p.MsgID, App: p.App, OpenID: p.OpenID, MsgType: p.MsgType, CreateTime: p.Created,
		Status: p.Status, Attempts: make([]AttemptView, 0, len(p.Attempts)), Platform: p.Platform}
	for _, e := range p.Attempts {
		a := e.Push
		v.Attempts = append(v.Attempts, AttemptView{ID: e.ID, Time: e.Time, Delivery: max(a.Delivery, 1), N: a.Attempt, Of: a.Attempts,
			Redelivery: a.Redelivery, Duplicate: a.Duplicate, Replica: a.Replica, Verdict: a.Verdict, Reason: e.Reason,
			Status: e.Status, LatencyMicros: e.LatencyMicros, Answer: a.Answer, AnswerTruncated: a.AnswerTruncated, Request: a.Request})
	}
	return v
}

// pushLogRoutes registers the routes of the delivery log.
func (a *API) pushLogRoutes(p prefixed) {
	p.handle("/pushes", a.listPushes, http.MethodGet)
	p.handle("/pushes/{msg_id}", a.getPushLog, http.MethodGet)
	p.handle("/pushes/{msg_id}/redeliver", a.redeliver, http.MethodPost)
}

func (a *API) listPushes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := mockserver.PushQuery{App: q.Get("app"), OpenID: q.Get("open_id"), Platform: q.Get("platform")}
	var err error
	if in.Failed, err = boolParam(q, "failed"); err != nil {
		WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	for name, dst := range map[string]*int{"limit": &in.Limit} {
		if s := q.Get(name); s != "" {
			if *dst, err = strconv.Atoi(s); err != nil || *dst < 1 {
				WriteError(w, http.StatusBadRequest, fmt.Sprintf("%s: %q is not a positive integer", name, s))
				return
			}
		}
	}
	if s := q.Get("before"); s != "" {
		if in.Before, err = strconv.ParseUint(s, 10, 64); err != nil {
			WriteError(w, http.StatusBadRequest, fmt.Sprintf("before: %q is not a cursor (next_before of a previous page)", s))
			return
		}
	}
	ps, next, err := a.core.Pushes(r.Context(), in)
	if err != nil {
		coreFailed(w, err)
		return
	}
	out := PushList{Pushes: make([]PushLogView, 0, len(ps)), NextBefore: next}
	for _, p := range ps {
		out.Pushes = append(out.Pushes, PushLogOf(p))
	}
	WriteJSON(w, http.StatusOK, out)
}

// msgIDOf reads {msg_id} of the path, or answers 400.
func msgIDOf(w http.ResponseWriter, r *http.Request) (int64, bool) {
	s := mux.Vars(r)["msg_id"]
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		WriteError(w, http.StatusBadRequest, fmt.Sprintf("msg_id: %q is not a MsgId (a positive integer)", s))
		return 0, false
	}
	return id, true
}

func (a *API) getPushLog(w http.ResponseWriter, r *http.Request) {
	id, ok := msgIDOf(w, r)
	if !ok {
		return
	}
	p, found, err := a.core.Push(r.Context(), id)
	if err != nil {
		coreFailed(w, err)
		return
	}
	if !found {
		WriteError(w, http.StatusNotFound, fmt.Sprintf("no push with MsgId %d in the journal", id))
		return
	}
	WriteJSON(w, http.StatusOK, PushLogOf(p))
}

func (a *API) redeliver(w http.ResponseWriter, r *http.Request) {
	id, ok := msgIDOf(w, r)
	if !ok {
		return
	}
	queue, ok := queueParam(w, r)
	if !ok {
		return
	}
	out, err := a.core.Redeliver(context.WithoutCancel(r.Context()), id, queue)
	if err != nil {
		coreFailed(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, a.userWroteAnswer(out))
}

// queueParam reads ?wait=: true (or absent) waits for the delivery, false answers queued.
func queueParam(w http.ResponseWriter, r *http.Request) (queue, ok bool) {
	wait := true
	if r.URL.Query().Has("wait") {
		var err error
		if wait, err = boolParam(r.URL.Query(), "wait"); err != nil {
			WriteError(w, http.StatusBadRequest, err.Error())
			return false, false
		}
	}
	return !wait, true
}

// boolParam reads a true/false query parameter (absent: false).
func boolParam(q url.Values, name string) (bool, error) {
	switch s := q.Get(name); s {
	case "":
		return false, nil
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	default:
		return false, fmt.Errorf("%s: %q; want true or false", name, s)
	}
}

// Pushes returns a page of the delivery log (q: app, open_id, failed, limit, before, platform).
func (c *Client) Pushes(ctx context.Context, q url.Values) (PushList, error) {
	var v PushList
	path := Prefix + "/pushes"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return v, c.Do(ctx, http.MethodGet, path, nil, &v)
}

// PushLog returns one push of the delivery log with every attempt.
func (c *Client) PushLog(ctx context.Context, msgID int64) (PushLogView, error) {
	var v PushLogView
	return v, c.Do(ctx, http.MethodGet, fmt.Sprintf("%s/pushes/%d", Prefix, msgID), nil, &v)
}

// Redeliver sends a push again (same MsgId, same bytes); without wait it answers queued at once.
func (c *Client) Redeliver(ctx context.Context, msgID int64, wait bool) (UserWroteAnswer, error) {
	var v UserWroteAnswer
	return v, c.Do(ctx, http.MethodPost, fmt.Sprintf("%s/pushes/%d/redeliver?wait=%t", Prefix, msgID, wait), nil, &v)
}
