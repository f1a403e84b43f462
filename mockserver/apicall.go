package mockserver

import (
	"context"
	"errors"
	"fmt"
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

// The shared pipeline of the endpoints besides the send (login, UnionID, the platform's lookups):
// read the query and the body (GET or POST, as the SDKs disagree), decide, then record the entry
// once and deliver the answer (plainly, or through a magic fault_<kind> value's fault). Each
// endpoint is an apiEndpoint: its journal name, how it answers a parameter error, and its
// decision, which the shared steps below (token, form, magic values) make short.

// apiEndpoint is one endpoint on the shared pipeline.
type apiEndpoint struct {
	// name is the journal's endpoint.
	name string
	// invalid answers a parameter error (a body that did not arrive, a form openapi.yaml refuses).
	invalid func(c *apiCall, reason string) reply
	// decide decides the answer.
	decide func(s *Server, ctx context.Context, c *apiCall) (reply, error)
}

// apiCall is one request on the pipeline.
type apiCall struct {
	s     *Server
	op    string
	id    string
	start time.Time
	p     *params.Params
}

// reply is an answer: the status and body, and the decision the journal records.
type reply struct {
	status int
	body   []byte
	d      Decision
	// oauthError is the OAuth error of a 400 answer.
	oauthError string
	// openID is the user the request concerned, when known.
	openID string
}

// get returns a parameter in use.
func (c *apiCall) get(name string) string {
	v, _ := c.p.Get(name)
	return v
}

// serveAPI runs the pipeline for the operation op.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, op string, ep *apiEndpoint) {
	start := s.now()
	c := &apiCall{s: s, op: op, id: s.newID(), start: start}
	e := store.Entry{ID: c.id, Time: start, AppTime: start, Endpoint: ep.name, Method: journalMethod(r.Method), Path: journalPath(r.URL.Path),
		ContentType: journalContentType(r.Header.Get("Content-Type")), Status: http.StatusOK, Params: []store.Param{}}
	var body []byte
	if r.Method == http.MethodPost {
		var err error
		if body, err = readBody(r); err != nil {
			reason := err.Error()
			if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
				reason = fmt.Sprintf("body: larger than %d bytes", MaxBodyBytes)
			}
			c.p = params.Parse(r.URL.RawQuery, "", nil, false)
			s.finish(w, r, &e, ep.invalid(c, reason), start)
			return
		}
	}
	c.p = params.Parse(r.URL.RawQuery, r.Header.Get("Content-Type"), body, s.cfg.Policy.LenientJSON)
	e.Params = c.p.Journal()
	if t := c.get(smartappmock.ParamAccessToken); t != "" {
		e.Token = RedactToken(t)
	}
	if reason := c.p.TooManyReason(); reason != "" {
		s.finish(w, r, &e, ep.invalid(c, reason), start)
		return
	}
	rp, err := ep.decide(s, r.Context(), c)
	if err != nil {
		rp = c.gatewayReply(storeDown(err))
	}
	if c.p.LenientJSON() {
		rp.d.Warnings = append([]store.Warning{WarnLenientJSON.Warning()}, rp.d.Warnings...)
	}
	s.finish(w, r, &e, rp, start)
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

// gatewayReply answers a gateway decision in its envelope (HTTP 200).
func (c *apiCall) gatewayReply(d Decision) reply {
	return reply{status: http.StatusOK, body: c.s.envelope(d).body, d: d}
}

// token decides the gateway layer of a call that takes an access token, as a send's first step
// does (decide.go): missing (100), a magic error_code_<N>, a token of the other kind (110: byTP
// wants an authorizer token, 45., and the app's own endpoints refuse one), the store's lookup
// (a sandbox app for a token the fake did not issue, when the policy allows), expiry on the app's
// clock (111). It returns the token's app with d carrying the app, its clock and the warnings;
// refused says d is the answer.
func (c *apiCall) token(ctx context.Context, byTP bool) (app store.App, d Decision, refused bool, err error) {
	s := c.s
	token := c.get(smartappmock.ParamAccessToken)
	d = Decision{AppTime: c.start}
	if refusal, no := s.tokenGate(token, byTP); no {
		return store.App{}, refusal, true, nil
	}
	sandbox := s.cfg.Policy.Tokens == config.TokensSandbox
	baiduLike := baiduShaped(token)
	fallback := ""
	if sandbox && !baiduLike {
		fallback = SandboxAppID(token)
	}
	lk, err := s.store.Lookup(ctx, token, fallback)
	if err != nil {
		return store.App{}, d, false, err
	}
	now := c.start
	if !lk.Now.IsZero() {
		now = lk.Now.In(now.Location())
	}
	app, refusal, no, err := s.sendApp(ctx, &send{token: token}, &lk, sandbox, baiduLike)
	if err != nil {
		return store.App{}, d, false, err
	}
	if no {
		return store.App{}, refusal, true, nil
	}
	d.App, d.AppTime = app.ID, app.Now(now)
	switch app.Source {
	case "sandbox-token":
		d.Warnings = append(d.Warnings, WarnUnissuedToken.Warning())
	case "sandbox-client":
		d.Warnings = append(d.Warnings, WarnUnconfiguredClient.Warning())
	}
	if !lk.Token.Expires.IsZero() && !d.AppTime.Before(lk.Token.Expires) {
		v := gateway(smartappmock.CodeAccessTokenExpired, reasonTokenExpired(lk.Token.Expires, d.AppTime))
		v.App, v.AppTime, v.Warnings = d.App, d.AppTime, d.Warnings
		return app, v, true, nil
	}
	return app, d, false, nil
}

// form checks the call's parameters against its operation's form schema (openapi.yaml,
// x-smartapp-form): "" when they are valid, else the reason.
func (c *apiCall) form() string {
	if name := c.p.InvalidUTF8(); name != "" {
		return name + ": not valid UTF-8"
	}
	if vs := c.s.spec.CheckForm(c.op, c.p.Get); len(vs) > 0 {
		reason := spec.Join(vs)
		if notes := c.p.Notes(); len(notes) > 0 {
			reason += "; " + strings.Join(notes, "; ")
		}
		return reason
	}
	return ""
}

// magic reads a magic value (policy.magic_values) in a parameter: errno_<N> answers the errno N
// when known says it is one of the endpoint's (n > 0), fault_<kind> delivers the answer through
// that fault (plan not nil).
func (c *apiCall) magic(value string, known func(int) bool) (n int, plan *fault.Plan) {
	if !c.s.cfg.Policy.MagicValues {
		return 0, nil
	}
	if rest, ok := strings.CutPrefix(value, magicOpenIDPrefix); ok {
		if v, err := strconv.Atoi(rest); err == nil && v != 0 && known(v) {
			return v, nil
		}
	}
	if strings.HasPrefix(value, magicFaultPrefix) {
		if p, ok := magicFault(value); ok {
			return 0, &p
		}
	}
	return 0, nil
}

// magicDecision marks d as forced by the magic value v.
func magicDecision(d Decision, v string) Decision {
	d.Reason, d.Rule = "magic value "+v, "magic:"+v
	d.Warnings = append(d.Warnings, WarnMagicValue.Warning())
	return d
}
