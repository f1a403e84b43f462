package mockserver

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver/fault"
	"github.com/smartappmock/smartappmock/store"
)

// serveSend runs the send pipeline: read and parse the request into a SendRequest, decide, then
// record the entry once and deliver the answer (plainly, or through a fault).
func (s *Server) serveSend(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	id := s.newID()
	e := store.Entry{ID: id, Time: start, AppTime: start, Endpoint: "send", Method: r.Method, Path: r.URL.Path,
		ContentType: clipCopy(r.Header.Get("Content-Type")), Status: http.StatusOK}

	body, err := readBody(r)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		d := business(smartappmock.ErrnoInvalidParam, fmt.Sprintf("body: larger than %d bytes", MaxBodyBytes))
		s.finish(w, r, e, d, nil, start)
		return
	case err != nil:
		// A body that did not fully arrive is never a send: nothing is counted, and the client (if
		// it is still there) learns why.
		s.finish(w, r, e, business(smartappmock.ErrnoInvalidParam, err.Error()), nil, start)
		return
	}
	p := parseParams(r.URL.RawQuery, r.Header.Get("Content-Type"), body, s.cfg.Policy.LenientJSON)
	if reason := p.tooManyReason(); reason != "" {
		s.finish(w, r, e, business(smartappmock.ErrnoInvalidParam, reason), p, start)
		return
	}
	req := p.sendRequest()
	v := s.decideSend(r, &req, p, start)
	e.App, e.AppTime, e.Token = v.app, v.appTime, v.token
	s.finish(w, r, e, v.Decision, p, start)
}

// finish fills the entry from the parameters and the decision, picks a fault, records the entry
// and delivers the answer.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, e store.Entry, d Decision, p *params, start time.Time) {
	e.Params = []store.Param{}
	var in matchInput
	if p != nil {
		e.Params = p.journal()
		openID, _ := p.get(smartappmock.ParamOpenID)
		msgType, _ := p.get(smartappmock.ParamMsgType)
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
		if len(p.notes) > 0 && d.Code != 0 {
			d.Reason = strings.Join(append([]string{d.Reason}, p.notes...), "; ")
		}
		in = matchInput{app: e.App, openID: openID, msgType: msgType}
		in.token, _ = p.get(smartappmock.ParamAccessToken)
		in.content, _ = p.get(smartappmock.ParamContent)
	}
	e.Layer, e.Code, e.Reason, e.Rule = d.Layer, d.Code, d.Reason, d.Rule
	plan, faulted := s.pickFault(r.Context(), in)
	if !faulted {
		// The entry is in the journal before the client has its answer, so a client that reads the
		// journal right after a send always finds it.
		s.record(r.Context(), e, start)
		s.writeEnvelope(w, d, e.ID)
		return
	}
	e.Fault = plan.Describe()
	opts := fault.Options{Hold: s.faultHold, Release: s.release, RequestIDHeader: smartappmock.HeaderRequestID}
	fault.Deliver(w, r, s.render(d, e.ID), plan, opts, func(o fault.Outcome) {
		e.Status = o.Status
		if o.Note != "" {
			e.Fault += "; " + o.Note
		}
		s.record(r.Context(), e, start)
	})
}
