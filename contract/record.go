package contract

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/contract/internal/target"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/fault"
	"github.com/smartappmock/smartappmock/store"
)

// exchange is one request a client sent, and how it was answered.
type exchange struct {
	// Endpoint is "send", "token" or "other".
	Endpoint string
	Method   string
	// Target is the request URI: path and raw query.
	Target string
	Header http.Header
	Body   []byte
	// Raw is true when Header and Body are exactly what the client sent (in-process); false when
	// the request was rebuilt from a target's journal.
	Raw        bool
	Start, End time.Time
	// Fault is the fault the kit answered with instead of the fake.
	Fault Fault
	// Abandoned is true when the client closed the request before the answer (slow fault).
	Abandoned bool
	Status    int
	RequestID string
	// Entry is the fake's journal entry, nil when a fault answered.
	Entry *store.Entry
	// Message is the index of the message in flight when the request arrived.
	Message int
}

// answer renders how the request was answered, e.g. "business 3001" or "fault http_502".
func (e *exchange) answer() string {
	switch {
	case e.Fault != "":
		return "fault " + string(e.Fault)
	case e.Entry != nil:
		return e.Entry.Outcome()
	default:
		return "no answer recorded"
	}
}

// line renders the exchange for a diff: "POST /rest/2.0/smartapp/message/custom/send -> business 3001".
func (e *exchange) line() string {
	path, _, _ := strings.Cut(e.Target, "?")
	return e.Method + " " + path + " -> " + e.answer()
}

// endpointOf names a path for the judges: either send endpoint is "send"; the endpoint that gives
// the token a send uses (/oauth/2.0/token, or the authorizer tokens' /rest/2.0/oauth/token) is
// "token"; the platform token and pre-authorization code are "other".
func endpointOf(path string) string {
	switch path {
	case smartappmock.SendPath, smartappmock.SendByTPPath:
		return "send"
	case smartappmock.TokenPath, smartappmock.TPOAuthPath:
		return "token"
	case smartappmock.SubscribeSendPath:
		return endpointSubscribe
	case smartappmock.CheckTextPath:
		return endpointCheck
	}
	return "other"
}

// recorder is the kit's handler in front of the fake: it keeps every raw request and injects the
// case's transport fault on send requests.
type recorder struct {
	next        http.Handler
	fault       Fault
	hold        time.Duration
	maxAttempts int

	inflight sync.WaitGroup

	mu        sync.Mutex
	ex        []exchange
	msg       int
	attempts  int
	cancel    context.CancelFunc
	overflown bool
}

// begin marks the start of message i; cancel stops the client when it loops.
func (r *recorder) begin(i int, cancel context.CancelFunc) {
	r.mu.Lock()
	r.msg, r.attempts, r.cancel, r.overflown = i, 0, cancel, false
	r.mu.Unlock()
}

// overflow reports whether the kit stopped the client during the current message.
func (r *recorder) overflow() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.overflown
}

// exchanges waits for requests in flight (a hijacked connection's handler outlives the server's
// Close), then returns every exchange.
func (r *recorder) exchanges() []exchange {
	r.inflight.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]exchange, len(r.ex))
	copy(out, r.ex)
	return out
}

// statusWriter keeps the status and request id the fake answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ServeHTTP records the request, then answers with the fault or passes it to the fake.
func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.inflight.Add(1)
	defer r.inflight.Done()
	body, _ := io.ReadAll(io.LimitReader(req.Body, mockserver.MaxBodyBytes+1))
	req.Body = io.NopCloser(bytes.NewReader(body))
	e := exchange{Endpoint: endpointOf(req.URL.Path), Method: req.Method, Target: req.URL.RequestURI(),
		Header: req.Header.Clone(), Body: body, Raw: true, Start: time.Now()}
	r.mu.Lock()
	e.Message = r.msg
	if e.Endpoint == "send" || e.Endpoint == endpointSubscribe || e.Endpoint == endpointCheck {
		r.attempts++
		if r.maxAttempts > 0 && r.attempts > r.maxAttempts && !r.overflown {
			r.overflown = true
			if r.cancel != nil {
				r.cancel()
			}
		}
	}
	r.mu.Unlock()

	if e.Endpoint == "send" && r.fault != "" {
		e.Fault = r.fault
		e.Status, e.Abandoned, e.RequestID = r.inject(w, req)
	} else {
		sw := &statusWriter{ResponseWriter: w}
		r.next.ServeHTTP(sw, req)
		e.Status = sw.status
		e.RequestID = w.Header().Get(smartappmock.HeaderRequestID)
	}
	e.End = time.Now()
	r.mu.Lock()
	r.ex = append(r.ex, e)
	r.mu.Unlock()
}

// inject delivers the send's answer through the fault with the fake's own fault implementation
// (package fault): the same bytes as against a target, where the kit plans the same kinds with
// PUT /__admin/faults. A fault of phase after lets the fake decide (and count) the send first; one
// of phase before never reaches it, as against a target. It returns the status written (0 for
// none), whether the client gave up first, and the fake's request id (empty when it never saw the
// send).
func (r *recorder) inject(w http.ResponseWriter, req *http.Request) (status int, abandoned bool, id string) {
	a := fault.Answer{Status: http.StatusOK, Header: http.Header{}}
	if faultPhase(r.fault) == config.FaultPhaseAfter {
		rec := httptest.NewRecorder()
		r.next.ServeHTTP(rec, req)
		a = fault.Answer{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
		id = rec.Header().Get(smartappmock.HeaderRequestID)
	}
	out := fault.Deliver(w, req, a, fault.Plan{Kind: faultKind(r.fault), Source: "contract"},
		fault.Options{Hold: r.hold, RequestIDHeader: smartappmock.HeaderRequestID}, func(fault.Outcome) {})
	return out.Status, req.Context().Err() != nil, id
}

// rebuild turns a target's journal entry back into the exchange of message msg (target.Request).
func rebuild(e store.Entry, msg int) exchange {
	uri, h, body := target.Request(e)
	ex := exchange{Endpoint: endpointOf(e.Path), Method: e.Method, Target: uri, Header: h, Body: body,
		Start: e.Time, End: e.Time.Add(time.Duration(e.LatencyMicros) * time.Microsecond),
		Status: e.Status, RequestID: e.ID, Message: msg}
	if e.Fault != "" {
		kind, _, _ := strings.Cut(e.Fault, " ")
		ex.Fault = Fault(kind)
	}
	entry := e
	ex.Entry = &entry
	return ex
}
