// Package spec is the only importer of kin-openapi: it loads openapi.yaml, finds the route of a
// request, checks the merged parameters of a send, and checks raw requests and responses against the
// document for the contract kit. Every check answers with Violations that say where, which field,
// and why, in words fit for a response header.
package spec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Operation ids of openapi.yaml that the fake serves.
const (
	OpSend         = "sendCustomMessage"
	OpTokenByQuery = "getTokenByQuery"
	OpTokenByForm  = "getTokenByForm"
	// OpSendByTP is the third-party platform's twin of OpSend (custom/sendbytp).
	OpSendByTP = "sendCustomMessageByTP"
	// OpTPToken mints a platform token (42.) from the platform key and ticket.
	OpTPToken = "getTPToken"
	// OpPreAuthCode creates a pre-authorization code with a platform token.
	OpPreAuthCode = "createPreAuthCode"
	// OpTPOAuth exchanges an authorization code or a refresh token for authorizer tokens (45./46.).
	OpTPOAuth = "getAuthorizerToken"
	// OpSubscribeSend sends a subscribe message (template/message/subscribe/send).
	OpSubscribeSend = "sendSubscribeMessage"
	// OpTemplateSend sends a legacy template message (template/send).
	OpTemplateSend = "sendTemplateMessage"
	// OpCheckText checks a text (riskDetection/v2/syncCheckText).
	OpCheckText = "checkText"
	// OpCheckImage and OpCheckImageRest check an image, on the SDKs' /file/ path and on the
	// /rest/ path of a community SDK.
	OpCheckImage     = "checkImage"
	OpCheckImageRest = "checkImageRest"
	// OpDetectRisk answers the anti-cheat risk level (detectrisk).
	OpDetectRisk = "detectRisk"
	// OpGetMsg is a platform's push log (pushmsg/getmsg).
	OpGetMsg        = "getPushMessages"
	sendFormSchema  = "SendForm"
	requiredWhenExt = "x-smartapp-required-when"
	codesExt        = "x-smartapp-codes"
)

// Spec is a loaded, validated openapi.yaml with everything the fake needs compiled once: what
// serving needs (compiled) up front, and kin-openapi's document, router and send schema (document)
// when a check first needs them.
type Spec struct {
	c       compiled
	full    func() (*document, error)
	optsReq *openapi3filter.Options
}

// document is openapi.yaml as kin-openapi loaded it.
type document struct {
	doc    *openapi3.T
	router routers.Router
	send   *openapi3.Schema // the SendForm schema
}

// condition is one x-smartapp-required-when rule: Field must be non-empty when On equals Value.
type condition struct {
	Field  string `json:"field"`
	On     string `json:"on"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// Load parses and validates an OpenAPI document, clears its servers (so routing works on any host),
// and compiles the send schema, its conditional rules and the code catalogue.
func Load(data []byte) (*Spec, error) {
	d, err := loadDocument(data)
	if err != nil {
		return nil, err
	}
	c, err := compile(d, data)
	if err != nil {
		return nil, err
	}
	return newSpec(c, func() (*document, error) { return d, nil }), nil
}

func newSpec(c compiled, full func() (*document, error)) *Spec {
	return &Spec{c: c, full: full, optsReq: &openapi3filter.Options{
		MultiError:         true,
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
	}}
}

// loadDocument parses and validates an OpenAPI document with kin-openapi, clears its servers and
// builds its router; the operations the fake serves and the send schema must be there.
func loadDocument(data []byte) (*document, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi: invalid document: %w", err)
	}
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: router: %w", err)
	}
	ops := map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ops[op.OperationID] = true
		}
	}
	for _, id := range []string{OpSend, OpTokenByQuery, OpTokenByForm, OpSendByTP, OpTPToken, OpPreAuthCode, OpTPOAuth,
		OpLoginV1Query, OpLoginV1Form, OpLoginV2Query, OpLoginV2Form, OpTPLogin, OpUnionID, OpTPUnionID, OpTPUnionIDPost,
		OpRetrieveCode, OpAppInfo, OpGetMsg,
		OpSubscribeSend, OpTemplateSend, OpCheckText, OpCheckImage, OpCheckImageRest, OpDetectRisk} {
		if !ops[id] {
			return nil, fmt.Errorf("openapi: operation %q is missing", id)
		}
	}
	ref, ok := doc.Components.Schemas[sendFormSchema]
	if !ok || ref.Value == nil {
		return nil, fmt.Errorf("openapi: schema %s is missing", sendFormSchema)
	}
	return &document{doc: doc, router: router, send: ref.Value}, nil
}

// compile takes from a loaded document (of data) what serving needs: routes, the send checks, the
// catalogue.
func compile(d *document, data []byte) (compiled, error) {
	var (
		c   = compiled{Source: sourceHash(data)}
		err error
	)
	if c.When, err = parseRequiredWhen(d.send.Extensions[requiredWhenExt]); err != nil {
		return c, err
	}
	c.Send = compileSendChecker(d.send)
	c.Routes, c.Templated = literalRoutes(d.doc)
	if c.Codes, err = parseCatalogue(d.doc.Extensions[codesExt]); err != nil {
		return c, err
	}
	if c.Forms, err = compileForms(d.doc); err != nil {
		return c, err
	}
	return c, nil
}

// Catalogue returns the codes and messages of x-smartapp-codes.
func (s *Spec) Catalogue() Catalogue { return s.c.Codes }

// Document returns the loaded document (nil if it did not load: Embedded loads it on first use,
// and a test proves that the build's openapi.yaml loads). Callers must not modify it.
func (s *Spec) Document() *openapi3.T {
	d, err := s.full()
	if err != nil {
		return nil
	}
	return d.doc
}

// FindOperation returns the operation id that serves a method and path, and whether the path exists
// at all (so a known path with another method can be told from an unknown path).
func (s *Spec) FindOperation(r *http.Request) (opID string, pathKnown bool) {
	methods, known := s.c.Routes[r.URL.Path]
	if id, ok := methods[r.Method]; ok {
		return id, true
	}
	if !s.c.Templated {
		// Every path is in the table, which then answers as the router would (a test compares them).
		return "", known
	}
	d, err := s.full()
	if err != nil {
		return "", false
	}
	route, _, err := d.router.FindRoute(r)
	if err == nil {
		return route.Operation.OperationID, true
	}
	if errors.Is(err, routers.ErrMethodNotAllowed) {
		return "", true
	}
	return "", false
}

// Violation is one way a request or response breaks the contract.
type Violation struct {
	// Where is "query", "body", "header", "status" or "request".
	Where string `json:"where"`
	// Field is the parameter, header or JSON pointer concerned, if any.
	Field string `json:"field,omitempty"`
	// Reason says what is wrong, without echoing the whole schema.
	Reason string `json:"reason"`
}

// String renders the violation as "field: reason" (or "where: reason" without a field).
func (v Violation) String() string { return v.label() + ": " + v.Reason }

// Join renders violations as one line, for a response header or a log: their String forms
// separated by "; ", built in one allocation (every invalid send asks).
func Join(vs []Violation) string {
	n := 0
	for i, v := range vs {
		if i > 0 {
			n += len("; ")
		}
		n += len(v.label()) + len(": ") + len(v.Reason)
	}
	var b strings.Builder
	b.Grow(n)
	for i, v := range vs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.label())
		b.WriteString(": ")
		b.WriteString(v.Reason)
	}
	return b.String()
}

// label is what String puts before the reason: the field, or where without one.
func (v Violation) label() string {
	if v.Field != "" {
		return v.Field
	}
	return v.Where
}

// CheckSend checks merged send parameters (query and body already merged by the caller) against the
// SendForm schema, as CheckForm checks an operation's form, and its x-smartapp-required-when rules.
// get returns a parameter's value and whether it was present. It returns nil when the parameters are
// valid.
func (s *Spec) CheckSend(get func(name string) (string, bool)) []Violation {
	return append(s.checkForm(form{Schema: sendFormSchema, Check: s.c.Send}, get), s.checkWhen(get)...)
}

// checkSendKin is CheckSend by kin-openapi's VisitJSON alone: the reference the compiled check is
// tested against.
func (s *Spec) checkSendKin(get func(name string) (string, bool)) []Violation {
	return append(s.checkFormKin(sendFormSchema, get), s.checkWhen(get)...)
}

// CheckRequest checks a raw request, as a client sent it, against the document: route, parameters,
// content type and body, plus the x-smartapp-required-when rules of a send. body is the request body
// (the request's own Body is not read). It is what the contract kit uses to judge clients.
func (s *Spec) CheckRequest(r *http.Request, body []byte) []Violation {
	d, err := s.full()
	if err != nil {
		return []Violation{{Where: "request", Reason: err.Error()}}
	}
	clone := r.Clone(context.Background())
	clone.Body = http.NoBody
	if len(body) > 0 {
		clone.Body = nopCloser{bytes.NewReader(body)}
	}
	clone.ContentLength = int64(len(body))
	route, params, err := d.router.FindRoute(clone)
	if err != nil {
		return []Violation{{Where: "request", Reason: fmt.Sprintf("%s %s is not an operation of openapi.yaml", r.Method, r.URL.Path)}}
	}
	input := &openapi3filter.RequestValidationInput{Request: clone, PathParams: params, Route: route, Options: s.optsReq}
	var out []Violation
	if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
		out = append(out, requestViolations(err)...)
	}
	if route.Operation.OperationID == OpSend && len(out) == 0 {
		values := mergedForm(clone, body)
		out = append(out, s.checkWhen(values)...)
	}
	return out
}

func (s *Spec) checkWhen(get func(string) (string, bool)) []Violation {
	var out []Violation
	for _, c := range s.c.When {
		if on, _ := get(c.On); on != c.Value {
			continue
		}
		if v, _ := get(c.Field); strings.TrimSpace(v) == "" {
			out = append(out, Violation{Where: "body", Field: c.Field, Reason: c.Reason})
		}
	}
	return out
}

// CheckResponse checks a response to a request against the document: status, headers and body.
func (s *Spec) CheckResponse(r *http.Request, status int, header http.Header, body []byte) []Violation {
	d, err := s.full()
	if err != nil {
		return []Violation{{Where: "request", Reason: err.Error()}}
	}
	clone := r.Clone(context.Background())
	clone.Body = http.NoBody
	route, params, err := d.router.FindRoute(clone)
	if err != nil {
		return []Violation{{Where: "request", Reason: fmt.Sprintf("%s %s is not an operation of openapi.yaml", r.Method, r.URL.Path)}}
	}
	reqInput := &openapi3filter.RequestValidationInput{Request: clone, PathParams: params, Route: route, Options: s.optsReq}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqInput,
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return responseViolations(err)
	}
	return nil
}

// literalRoutes maps path and method to the operation id for every path of the document without a
// template, so the common lookups skip the router, and reports whether some path has a template
// (the router then answers what the table lacks).
func literalRoutes(doc *openapi3.T) (routes map[string]map[string]string, templated bool) {
	out := map[string]map[string]string{}
	for path, item := range doc.Paths.Map() {
		if strings.ContainsAny(path, "{}") {
			templated = true
			continue
		}
		out[path] = map[string]string{}
		for method, op := range item.Operations() {
			out[path][method] = op.OperationID
		}
	}
	return out, templated
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// parseRequiredWhen reads {field: {on: value}} from the extension.
func parseRequiredWhen(ext any) ([]condition, error) {
	if ext == nil {
		return nil, nil
	}
	raw, err := json.Marshal(ext)
	if err != nil {
		return nil, err
	}
	var m map[string]map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("openapi: %s: %w", requiredWhenExt, err)
	}
	var out []condition
	for field, conds := range m {
		for on, value := range conds {
			out = append(out, condition{Field: field, On: on, Value: value, Reason: fmt.Sprintf("required when %s is %s", on, value)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Field != b.Field {
			return a.Field < b.Field
		}
		if a.On != b.On {
			return a.On < b.On
		}
		return a.Value < b.Value
	})
	return out, nil
}

// CheckValue checks a decoded JSON value (a request's JSON body) against the named schema of
// openapi.yaml's components.
func (s *Spec) CheckValue(schema string, v any) []Violation {
	sc, err := s.schema(schema)
	if err != nil {
		return []Violation{{Where: "request", Reason: err.Error()}}
	}
	return s.visit(sc, v)
}

func (s *Spec) visit(sc *openapi3.Schema, v any) []Violation {
	if err := sc.VisitJSON(v, openapi3.MultiErrors(), openapi3.VisitAsRequest(), openapi3.DisableSchemaErrorDetails()); err != nil {
		return schemaViolations("body", err)
	}
	return nil
}

// schema returns a component schema of the document by name.
func (s *Spec) schema(name string) (*openapi3.Schema, error) {
	d, err := s.full()
	if err != nil {
		return nil, err
	}
	ref, ok := d.doc.Components.Schemas[name]
	if !ok || ref.Value == nil {
		return nil, fmt.Errorf("openapi: schema %s is missing", name)
	}
	return ref.Value, nil
}
