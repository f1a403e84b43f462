package mockserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/internal/spec"
	"github.com/smartappmock/smartappmock/mockserver/fault"
	"github.com/smartappmock/smartappmock/mockserver/params"
	"github.com/smartappmock/smartappmock/store"
)

// The pipeline of every endpoint beside the send (login, UnionID, the platform's lookups, the
// subscribe and template messages, the content checks): read the request, let the endpoint read
// what rules and fault plans match on, decide in the send's one order (decide.go: credentials,
// fault plans, a fault before the service, the gateway layer, then the business layer: the
// operation's form of openapi.yaml, then the endpoint's own checks), then record the entry once
// and deliver the answer in the endpoint's envelope, plainly or through the fault that picked
// it. What differs between endpoints is declared on their endpoint, never decided here.

// endpoint is one endpoint beside the send, declared once.
type endpoint struct {
	// name is the journal's endpoint, and names the endpoint's QPS and daily counters.
	name string
	// byTP says the endpoint takes an authorizer token (45.), as sendbytp does; else the app's.
	byTP bool
	// authenticate, when not nil, is the endpoint's own first step instead of an access token
	// (the v1 login's client_id and sk, the platform token 42.): the app (none when the business
	// layer names it), or the refusal, rendered.
	authenticate func(ctx context.Context, c *call, now time.Time) (app store.App, refusal reply, refused bool, warnings []store.Warning, err error)
	// limits says the app's QPS and daily limits count the endpoint's calls (counters
	// qps:<name> and daily:<name>); false where Baidu documents no such quota.
	limits bool
	// bodyLimit bounds the request body (0: MaxBodyBytes).
	bodyLimit int64
	// rawBody says the body is the endpoint's to read (JSON, multipart), not parameters.
	rawBody bool
	// invalid renders the answer to a parameter error (a body that did not arrive, too many
	// parameters, a form openapi.yaml refuses).
	invalid func(c *call, reason string) reply
	// read reads the endpoint's request into a call: it names, on in, the open_id and the content
	// that rules and fault plans match on, and on c the parameter of magic values.
	read func(c *call, in *send) endpointCall
}

// endpointCall is the endpoint's own part of the decision, last in the business layer (after the
// form): its checks and its answer, rendered.
type endpointCall interface {
	decide(ctx context.Context, c *call, app store.App, appNow time.Time) (reply, error)
}

// callFunc is an endpointCall that keeps no state of its own beyond the call's parameters.
type callFunc func(s *Server, ctx context.Context, c *call, app store.App, appNow time.Time) (reply, error)

func (f callFunc) decide(ctx context.Context, c *call, app store.App, appNow time.Time) (reply, error) {
	return f(c.s, ctx, c, app, appNow)
}

// call is one request on the pipeline.
type call struct {
	s     *Server
	ep    *endpoint
	op    string
	id    string
	start time.Time
	p     *params.Params
	// body is the raw body and contentType its Content-Type (an endpoint with rawBody reads them).
	body        []byte
	contentType string
	// extra are journal parameters the endpoint read from a raw body.
	extra []store.Param
	// magic is the value that may be a magic fault_<kind> (policy.magic_values): the open_id,
	// a login's code.
	magic string
	// tag is the platform token's tag (RetrieveAuthCode's credentials).
	tag  string
	impl endpointCall
	// rp is the answer the endpoint rendered (a refusal of its credentials, its form or its own
	// checks); a zero rp: the decision's envelope of the catalogue.
	rp reply
}

// reply is an answer: the status and body, and the decision the journal records.
type reply struct {
	status int
	body   []byte
	d      Decision
	// oauthError is the OAuth error of a 400 answer.
	oauthError string
	// openID is the user the request concerned, when the endpoint learned it.
	openID string
}

// get returns a parameter in use.
func (c *call) get(name string) string {
	v, _ := c.p.Get(name)
	return v
}

// serveCallOp serves the operations of openapi.yaml beside the send and the token endpoints; it
// returns false for any other operation.
func (s *Server) serveCallOp(w http.ResponseWriter, r *http.Request, op string) bool {
	var ep *endpoint
	switch op {
	case spec.OpLoginV1Query, spec.OpLoginV1Form:
		ep = loginV1Endpoint
	case spec.OpLoginV2Query, spec.OpLoginV2Form:
		ep = loginV2Endpoint
	case spec.OpTPLogin:
		ep = tpLoginEndpoint
	case spec.OpUnionID:
		ep = unionIDEndpoint
	case spec.OpTPUnionID, spec.OpTPUnionIDPost:
		ep = tpUnionIDEndpoint
	case spec.OpRetrieveCode:
		ep = retrieveCodeEndpoint
	case spec.OpAppInfo:
		ep = appInfoEndpoint
	case spec.OpSubscribeSend:
		ep = subscribeSendEndpoint
	case spec.OpTemplateSend:
		ep = templateSendEndpoint
	case spec.OpCheckText:
		ep = checkTextEndpoint
	case spec.OpCheckImage, spec.OpCheckImageRest:
		ep = checkImageEndpoint
	case spec.OpDetectRisk:
		ep = detectRiskEndpoint
	default:
		return false
	}
	s.serveCall(w, r, op, ep)
	return true
}

// serveCall runs the pipeline for the operation op of endpoint ep.
func (s *Server) serveCall(w http.ResponseWriter, r *http.Request, op string, ep *endpoint) {
	start := s.now()
	c := &call{s: s, ep: ep, op: op, id: s.newID(), start: start, contentType: r.Header.Get("Content-Type")}
	e := store.Entry{ID: c.id, Time: start, AppTime: start, Endpoint: ep.name, Method: journalMethod(r.Method), Path: journalPath(r.URL.Path),
		ContentType: journalContentType(r.Header.Get("Content-Type")), Status: http.StatusOK, Params: []store.Param{}}
	limit := ep.bodyLimit
	if limit == 0 {
		limit = MaxBodyBytes
	}
	if r.Method != http.MethodGet {
		var err error
		if c.body, err = readLimited(r, limit); err != nil {
			reason := err.Error()
			if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
				reason = fmt.Sprintf("body: larger than %d bytes", limit)
			}
			c.p = params.Parse(r.URL.RawQuery, "", nil, false)
			defer c.p.Release()
			s.finish(w, r, &e, ep.invalid(c, reason), start)
			return
		}
	}
	if ep.rawBody {
		c.p = params.Parse(r.URL.RawQuery, "", nil, false)
	} else {
		c.p = params.Parse(r.URL.RawQuery, c.contentType, c.body, s.cfg.Policy.LenientJSON)
	}
	defer c.p.Release() // the answer is delivered (faults too) before serveCall returns
	in := send{p: c.p, byTP: ep.byTP, c: c}
	in.token = c.get(smartappmock.ParamAccessToken)
	c.impl = ep.read(c, &in)
	e.Params = append(c.p.Journal(), c.extra...)
	if in.token != "" {
		e.Token = RedactToken(in.token)
	}
	if in.openID != "" {
		e.OpenID = params.ClipCopy(in.openID)
	}
	if reason := c.p.TooManyReason(); reason != "" {
		s.finish(w, r, &e, ep.invalid(c, reason), start)
		return
	}
	d := s.decideSend(r.Context(), &in, nil, start)
	rp := c.rp
	if rp.body == nil {
		rp = reply{status: http.StatusOK, body: s.msgEnvelope(d, nil).body}
	}
	rp.d = d
	s.finish(w, r, &e, rp, start)
}

// decideCall is steps 4 and 5 of a call (decide.go): the gateway layer (rules; the QPS and daily
// limits, counted per endpoint, where the endpoint takes them), then the business layer: the
// operation's form (openapi.yaml's x-smartapp-form), then the endpoint's own checks.
func (s *Server) decideCall(ctx context.Context, in *send, plans *planCache, app store.App, appNow time.Time) (Decision, error) {
	c := in.c
	qps, daily := "", ""
	if c.ep.limits {
		qps, daily = "qps:"+c.ep.name, "daily:"+c.ep.name
	}
	v, refused, _, err := s.decideGateway(ctx, in, plans, app, appNow, qps, daily)
	if err != nil || refused {
		return v, err
	}
	if reason := c.form(); reason != "" {
		c.rp = c.ep.invalid(c, reason)
		return c.rp.d, nil
	}
	rp, err := c.impl.decide(ctx, c, app, appNow)
	if err != nil {
		return Decision{}, err
	}
	c.rp = rp
	return rp.d, nil
}

// finish fills the entry from the reply, records it and writes the answer, through the reply's
// fault when it has one: the one place an entry of the pipeline is journaled.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, e *store.Entry, rp reply, start time.Time) {
	d := rp.d
	e.Layer, e.Code, e.Reason, e.Rule, e.Warnings, e.Status = d.Layer, d.Code, d.Reason, d.Rule, d.Warnings, rp.status
	e.OAuthError = rp.oauthError
	if d.App != "" {
		e.App = d.App
	}
	if !d.AppTime.IsZero() {
		e.AppTime = d.AppTime
	}
	if rp.openID != "" {
		e.OpenID = rp.openID
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(rp.body)))
	h.Set(smartappmock.HeaderRequestID, e.ID)
	if rp.oauthError != "" {
		h.Set("Cache-Control", "no-store")
		h.Set(smartappmock.HeaderOutcome, "oauth "+rp.oauthError)
	} else {
		h.Set(smartappmock.HeaderOutcome, string(d.Layer)+" "+strconv.Itoa(d.Code))
	}
	if d.Reason != "" {
		h.Set(smartappmock.HeaderReason, HeaderSafe(d.Reason))
	}
	for _, wn := range d.Warnings {
		h.Add(smartappmock.HeaderWarning, HeaderSafe(wn.Message))
	}
	if d.Fault == nil {
		s.recordEntry(r.Context(), e, start)
		for k, v := range h {
			w.Header()[k] = v
		}
		w.WriteHeader(rp.status)
		_, _ = w.Write(rp.body)
		return
	}
	plan := *d.Fault
	e.Fault, e.FaultPhase = plan.Describe(), plan.Phase
	if plan.Kind != config.FaultNone {
		e.FaultKind = string(plan.Kind)
	}
	opts := fault.Options{Hold: s.faultHold, Release: s.release, RequestIDHeader: smartappmock.HeaderRequestID}
	fault.Deliver(w, r, fault.Answer{Status: rp.status, Header: h, Body: rp.body}, plan, opts, func(o fault.Outcome) {
		e.Status = o.Status
		if o.Note != "" {
			e.Fault += "; " + o.Note
		}
		s.recordEntry(r.Context(), e, start)
	})
}

// form checks the call's parameters: UTF-8, then its operation's form schema (openapi.yaml,
// x-smartapp-form; none: nothing to check). It returns "" when they are valid, else the reason.
func (c *call) form() string {
	if name := c.p.InvalidUTF8(); name != "" {
		return name + ": not valid UTF-8"
	}
	if vs := c.s.spec.CheckForm(c.op, c.p.Get); len(vs) > 0 {
		return spec.Join(vs)
	}
	return ""
}

// magicErrno is the answer of a magic value errno_<N> (policy.magic_values) in the parameter
// name, when known says N is one of the endpoint's errnos: the decision, rendered by the caller.
func (s *Server) magicErrno(name, value string, known func(int) bool) (Decision, bool) {
	if !s.cfg.Policy.MagicValues {
		return Decision{}, false
	}
	rest, ok := strings.CutPrefix(value, magicOpenIDPrefix)
	if !ok {
		return Decision{}, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n == 0 || !known(n) {
		return Decision{}, false
	}
	return Decision{Layer: smartappmock.LayerBusiness, Code: n, Reason: "magic " + name + " " + value, Rule: "magic:" + value,
		Warnings: []store.Warning{WarnMagicValue.Warning()}}, true
}

// withDecision returns rp with d's code, reason, rule and warnings: a magic value's.
func (rp reply) withDecision(d Decision) reply {
	rp.d.Code, rp.d.Reason, rp.d.Rule, rp.d.Warnings = d.Code, d.Reason, d.Rule, d.Warnings
	return rp
}

// msgEnvelope is the envelope of a decision of the catalogue: its business messages come from the
// message endpoints' tables (x-smartapp-codes.template and .risk) before the send's.
func (s *Server) msgEnvelope(d Decision, body []byte) envelope {
	if body != nil {
		return newEnvelope(d, body)
	}
	if d.Layer == smartappmock.LayerBusiness && d.Code != 0 {
		cat := s.spec.Catalogue()
		msg, ok := cat.TemplateMessage(d.Code)
		if !ok {
			msg, ok = cat.RiskMessage(d.Code)
		}
		if ok {
			return newEnvelope(d, mustJSON(smartappmock.BusinessEnvelope{Errno: d.Code, Msg: msg, Data: map[string]any{}}))
		}
	}
	return s.envelope(d)
}

// envelopeReply answers d in the catalogue's envelope (HTTP 200), or in body when not nil.
func (c *call) envelopeReply(d Decision, body []byte) reply {
	return reply{status: http.StatusOK, d: d, body: c.s.msgEnvelope(d, body).body}
}

// readLimited reads a request body of at most limit bytes, as readBody does for MaxBodyBytes.
func readLimited(r *http.Request, limit int64) ([]byte, error) {
	if limit <= MaxBodyBytes {
		return readBody(r)
	}
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	buf := make([]byte, 0, 4096)
	rd := http.MaxBytesReader(nil, r.Body, limit)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF {
				_ = r.Body.Close()
				return buf, nil
			}
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, err
			}
			return nil, &bodyCutError{read: len(buf), announced: max(r.ContentLength, -1), cause: err}
		}
	}
}

// bodyParam is a journal parameter of a value read from a JSON or multipart body.
func bodyParam(name, value string) store.Param {
	return store.Param{Name: name, Value: params.ClipCopy(value), Source: "body", Used: true}
}

// jsonObject decodes a JSON object of text (data, xtoken), or says why it is not one.
func jsonObject(text string) (map[string]any, error) {
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return nil, fmt.Errorf("not JSON (%s)", strings.TrimPrefix(err.Error(), "json: "))
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}
