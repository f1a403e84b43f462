package mockserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver/fault"
	"github.com/smartappmock/smartappmock/mockserver/params"
	"github.com/smartappmock/smartappmock/store"
)

// serveSend runs the send pipeline: read and parse the request into a SendRequest, decide, then
// record the entry once and deliver the answer (plainly, or through a fault).
func (s *Server) serveSend(w http.ResponseWriter, r *http.Request, endpoint string) {
	start := s.now()
	e := entries.Get().(*store.Entry) // answered before serveSend returns: hotpath.go
	defer releaseEntry(e)
	*e = store.Entry{ID: s.newID(), Time: start, AppTime: start, Endpoint: endpoint, Method: journalMethod(r.Method), Path: journalPath(r.URL.Path),
		ContentType: journalContentType(r.Header.Get("Content-Type")), Status: http.StatusOK}

	body, err := readBody(r)
	if err != nil {
		s.refuseBody(w, r, *e, err, start)
		return
	}
	p := params.ParseBody(r.URL.RawQuery, r.Header.Get("Content-Type"), body, s.cfg.Policy.LenientJSON)
	defer p.Release() // the answer is delivered (faults too) before serveSend returns
	if reason := p.TooManyReason(); reason != "" {
		journalParams(e, p)
		s.deliver(w, r, e, withNotes(business(smartappmock.ErrnoInvalidParam, reason), p), start)
		return
	}
	req := p.SendRequest()
	p.SetRedactedToken(req.AccessToken.Text, s.redacted.get(req.AccessToken.Text))
	journalParams(e, p)
	if req.AccessToken.Text != "" {
		e.Token = p.RedactedToken(req.AccessToken.Text)
	}
	in := send{token: req.AccessToken.Text, openID: req.OpenID.Text, msgType: req.MsgType.Text, content: req.Content.Text,
		byTP: endpoint == "sendbytp", p: p}
	ctx := r.Context()
	if s.remote {
		// The request id goes with the store calls: a reply counted is found by it, should the
		// store's answer be lost (reconcile.go). An in-process store's answers never are. The
		// decision's store calls share one deadline, the store's (guard): a send is decided, or
		// answered error_code 2, within it.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(store.WithRequest(ctx, e.ID), s.breaker.Deadline())
		defer cancel()
	}
	d := s.decideSend(ctx, &in, &req, start)
	s.deliver(w, r, e, d, start)
}

// refuseBody answers a send whose body readBody refused: too large, or cut (a body that did not
// fully arrive is never a send: nothing is counted, and the client, if it is still there, learns
// why).
func (s *Server) refuseBody(w http.ResponseWriter, r *http.Request, e store.Entry, err error, start time.Time) {
	journalParams(&e, nil)
	d := business(smartappmock.ErrnoInvalidParam, err.Error())
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		d.Reason = fmt.Sprintf("body: larger than %d bytes", MaxBodyBytes)
	}
	s.deliver(w, r, &e, d, start)
}

// journalParams fills the entry's parameters from p (nil: none), and the open_id and msg_type in
// use.
func journalParams(e *store.Entry, p *params.Params) {
	e.Params = []store.Param{}
	if p == nil {
		return
	}
	e.Params = p.Journal()
	// The journal's copies of the values in use: no copy of their own.
	for _, prm := range e.Params {
		if prm.Used && prm.Source != "note" {
			switch prm.Name {
			case smartappmock.ParamOpenID:
				e.OpenID = prm.Value
			case smartappmock.ParamMsgType:
				e.MsgType = prm.Value
			}
		}
	}
}

// withNotes returns d with the parameters' notes after the reason of an answer that is not a
// success.
func withNotes(d Decision, p *params.Params) Decision {
	if p != nil && len(p.Notes()) > 0 && d.Code != 0 {
		d.Reason = strings.Join(append([]string{d.Reason}, p.Notes()...), "; ")
	}
	return d
}

// deliver fills the entry from the decision, records it and delivers the answer: plainly, or
// through the fault that picked the request. The entry's parameters are in it already. It is the
// one place a send's entry is journaled, with what the client was told.
func (s *Server) deliver(w http.ResponseWriter, r *http.Request, e *store.Entry, d Decision, start time.Time) {
	env := s.envelope(d)
	e.Layer, e.Code, e.Reason, e.Rule, e.Warnings = d.Layer, d.Code, d.Reason, d.Rule, d.Warnings
	if d.App != "" {
		e.App = d.App
	}
	if !d.AppTime.IsZero() {
		e.AppTime = d.AppTime
	}
	if d.Fault == nil {
		// The entry is in the journal before the client has its answer, so a client that reads the
		// journal right after a send always finds it.
		s.recordEntry(r.Context(), e, start)
		s.writeEnv(w, d, e.ID, env)
		return
	}
	plan := *d.Fault
	e.Fault, e.FaultPhase = plan.Describe(), plan.Phase
	if plan.Kind != config.FaultNone {
		e.FaultKind = string(plan.Kind)
	}
	opts := fault.Options{Hold: s.faultHold, Release: s.release, RequestIDHeader: smartappmock.HeaderRequestID}
	fault.Deliver(w, r, render(d, e.ID, env), plan, opts, func(o fault.Outcome) {
		e.Status = o.Status
		if o.Note != "" {
			e.Fault += "; " + o.Note
		}
		s.recordEntry(r.Context(), e, start)
	})
}
