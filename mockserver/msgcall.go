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
	"github.com/smartappmock/smartappmock/internal/spec"
	"github.com/smartappmock/smartappmock/mockserver/params"
	"github.com/smartappmock/smartappmock/store"
)

// The endpoints beside the send (subscribe and template messages, the content checks) go through
// the send's decision (decide.go) with their own last step: the token, the fault plans, the
// gateway rules and limits as a send's, then the endpoint's own checks (msgCall.decide), in the
// order each endpoint's file lists. Their answers carry data (a message key, a check's results):
// the call renders its body, and the journal entry says what the client was told.

// msgCall is one request of an endpoint beside the send, as the decision reads it.
type msgCall interface {
	// decide is the endpoint's own part of the decision, after the gateway layer: its validation,
	// then its checks. A success (or a check's result) sets the body the call answers with.
	decide(ctx context.Context, s *Server, app store.App, appNow time.Time) (Decision, error)
	// body is the body decide rendered, nil for an envelope of the catalogue.
	body() []byte
	// endpoint names the endpoint (the journal's, and its QPS and daily counters').
	endpoint() string
}

// maxMsgBody bounds the body of an endpoint beside the send, but the image check's.
const maxMsgBody = MaxBodyBytes

// msgRequest is what serveMsg reads of a request for the endpoint's call: the parameters of the
// query and the body (a form or multipart; a JSON or an image body is the call's to read), and
// the raw body.
type msgRequest struct {
	p    *params.Params
	body []byte
}

// serveMsg runs the pipeline of an endpoint beside the send: read the body (at most limit bytes),
// parse the parameters, let newCall build the call (it names the token, the open_id and the
// content that rules and fault plans match on), decide, then journal once and deliver.
func (s *Server) serveMsg(w http.ResponseWriter, r *http.Request, endpoint string, limit int64, newCall func(*msgRequest, *send) (msgCall, []store.Param)) {
	start := s.now()
	e := &store.Entry{ID: s.newID(), Time: start, AppTime: start, Endpoint: endpoint, Method: journalMethod(r.Method), Path: journalPath(r.URL.Path),
		ContentType: journalContentType(r.Header.Get("Content-Type")), Status: http.StatusOK, Params: []store.Param{}}
	body, err := readLimited(r, limit)
	if err != nil {
		d := business(smartappmock.ErrnoInvalidParam, err.Error())
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			d.Reason = fmt.Sprintf("body: larger than %d bytes", limit)
		}
		d.Code = msgInvalidErrno(endpoint)
		s.deliverEnvelope(w, r, e, d, s.msgEnvelope(d, nil), start)
		return
	}
	ct := r.Header.Get("Content-Type")
	var p *params.Params
	if endpoint == endpointCheckImage || endpoint == endpointCheckText {
		p = params.Parse(r.URL.RawQuery, "", nil, false) // the JSON or the image is the call's to read
	} else {
		p = params.Parse(r.URL.RawQuery, ct, body, s.cfg.Policy.LenientJSON)
	}
	defer p.Release()
	in := send{p: p}
	in.token, _ = p.Get(smartappmock.ParamAccessToken)
	call, extra := newCall(&msgRequest{p: p, body: body}, &in)
	in.call = call
	e.Params = append(p.Journal(), extra...)
	if in.token != "" {
		e.Token = RedactToken(in.token)
	}
	if in.openID != "" {
		e.OpenID = params.ClipCopy(in.openID)
	}
	var d Decision
	if reason := p.TooManyReason(); reason != "" {
		d = business(msgInvalidErrno(endpoint), reason)
	} else {
		d = s.decideSend(r.Context(), &in, nil, start)
	}
	var out []byte
	if d.Layer == smartappmock.LayerBusiness {
		out = call.body()
	}
	s.deliverEnvelope(w, r, e, d, s.msgEnvelope(d, out), start)
}

// msgInvalidErrno is the errno of an invalid request to an endpoint beside the send: 2002 for the
// template messages, 40001 (inferred) for the content checks.
func msgInvalidErrno(endpoint string) int {
	switch endpoint {
	case endpointSubscribeSend, endpointTemplateSend:
		return smartappmock.ErrnoTemplateParam
	}
	return smartappmock.ErrnoRiskInvalidRequest
}

// msgEnvelope is the envelope of an endpoint's decision: the body the call rendered, else the
// catalogue's envelope, whose business messages come from the endpoint's tables
// (x-smartapp-codes.template and .risk) before the send's.
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

// decideMsg is steps 4 and 5 of an endpoint beside the send: the gateway layer (rules, and the
// QPS and daily limits, counted per endpoint), then the call's own checks.
func (s *Server) decideMsg(ctx context.Context, in *send, plans *planCache, app store.App, appNow time.Time) (Decision, error) {
	v, refused, _, err := s.decideGateway(ctx, in, plans, app, appNow, "qps:"+in.call.endpoint(), "daily:"+in.call.endpoint())
	if err != nil || refused {
		return v, err
	}
	return in.call.decide(ctx, s, app, appNow)
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

// checkParams is the validation of a form endpoint: UTF-8, then openapi.yaml's schema of the form.
func (s *Server) checkParams(p *params.Params, schema string, errno int) (Decision, bool) {
	if name := p.InvalidUTF8(); name != "" {
		return business(errno, name+": not valid UTF-8"), true
	}
	if vs := s.spec.CheckParams(schema, p.Get); len(vs) > 0 {
		return business(errno, spec.Join(vs)), true
	}
	return Decision{}, false
}

// magicAPIOpenID is the answer of a magic open_id errno_<N> on an endpoint whose errno table has N
// (msg reports whether it does).
func (s *Server) magicAPIOpenID(openID string, msg func(int) (string, bool)) (Decision, bool) {
	if !s.cfg.Policy.MagicValues || !strings.HasPrefix(openID, magicOpenIDPrefix) {
		return Decision{}, false
	}
	n, err := strconv.Atoi(openID[len(magicOpenIDPrefix):])
	if err != nil || n == 0 {
		return Decision{}, false
	}
	if _, ok := msg(n); !ok {
		return Decision{}, false
	}
	return Decision{Layer: smartappmock.LayerBusiness, Code: n, Reason: "magic open_id " + openID, Rule: "magic:" + openID,
		Warnings: []store.Warning{WarnMagicValue.Warning()}}, true
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
