// Package fault delivers an answer through a network failure: a gateway error page, a dropped or
// reset connection, a timeout, a truncated or malformed body, a wrong Content-Type, a drip, a
// delay. It is the one implementation of the fault kinds of config.FaultKind, used by the fake and
// by the contract kit, so that a fault has the same bytes in-process and against a target.
package fault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock/config"
)

// Header names the fault injected into an answer, when the fault leaves room for headers. It is an
// extra of the fake, like the other X-Smartappmock headers.
const Header = "X-Smartappmock-Fault"

// Answer is a rendered answer: what the client would get without a fault.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Plan is what a faulted answer gets: a delay, then a kind of failure (none: only the delay).
type Plan struct {
	Kind    config.FaultKind
	Latency time.Duration
	// Source names what chose the plan: "faults[0]", a plan's name, "magic:fault_reset".
	Source string
	// DripInterval and DripBytes shape a drip (defaults: config.DefaultDripInterval, 1 byte).
	DripInterval time.Duration
	DripBytes    int
	// Phase says where the fault strikes: config.FaultPhaseBefore (the request never reached the
	// service) or config.FaultPhaseAfter (the service acted; its answer is lost on the way back).
	Phase string
}

// Describe renders the plan for the journal: "http_503 (flaky)", "latency 1.2s + reset (faults[1])".
func (p Plan) Describe() string {
	var parts []string
	if p.Latency > 0 {
		parts = append(parts, "latency "+p.Latency.String())
	}
	if p.Kind != "" && p.Kind != config.FaultNone {
		parts = append(parts, string(p.Kind))
	}
	return strings.Join(parts, " + ") + " (" + p.Source + ")"
}

// Options tune a delivery.
type Options struct {
	// Hold is how long a timeout holds the request (0: config.MaxFaultHold).
	Hold time.Duration
	// Release, when closed, ends every hold at once (a graceful shutdown): a delay is cut short and
	// the answer still goes out; a timeout closes the connection.
	Release <-chan struct{}
	// RequestIDHeader, when set, is copied from the answer onto a gateway error page.
	RequestIDHeader string
}

// Outcome is what the client gets: the HTTP status (0: no HTTP answer at all) and a note on how
// the delivery went ("latency cut short: …", "held 2m0s, then closed").
type Outcome struct {
	Status int
	Note   string
}

// ErrReleased ends a hold when the server shuts down.
var ErrReleased = errors.New("the server is shutting down")

// Deliver writes a to w through p. It calls before exactly once, right before the first byte of
// the answer leaves (or, when nothing will leave, right before the connection is closed), with what
// the client gets: a caller records the request there, so its journal never lags behind what a
// client has seen. It returns the same outcome, with a note on how the delivery ended.
func Deliver(w http.ResponseWriter, r *http.Request, a Answer, p Plan, o Options, before func(Outcome)) Outcome {
	ctx := r.Context()
	out := Outcome{Status: a.Status}
	if p.Latency > 0 {
		switch err := wait(ctx, p.Latency, o.Release); {
		case errors.Is(err, ErrReleased):
			// Shutting down: the rest of the delay is skipped and the request finishes with its
			// answer, as a graceful shutdown promises (an empty 200 would look like a success).
			out.Note = "latency cut short: " + endReason(err)
		case err != nil:
			out = Outcome{Note: "ended during the latency: " + endReason(err)}
			before(out)
			return out
		}
	}
	h := w.Header()
	switch p.Kind {
	case "", config.FaultNone:
		copyHeader(h, a.Header)
		h.Set(Header, "latency")
		before(out)
		w.WriteHeader(a.Status)
		_, _ = w.Write(a.Body)
	case config.FaultHTTP500, config.FaultHTTP502, config.FaultHTTP503, config.FaultHTTP504:
		status, _ := strconv.Atoi(strings.TrimPrefix(string(p.Kind), "http_"))
		body := GatewayPage(status)
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		h.Set("Server", "nginx")
		h.Set(Header, string(p.Kind))
		if o.RequestIDHeader != "" && a.Header.Get(o.RequestIDHeader) != "" {
			h.Set(o.RequestIDHeader, a.Header.Get(o.RequestIDHeader))
		}
		out.Status = status
		before(out)
		w.WriteHeader(status)
		_, _ = w.Write(body)
	case config.FaultReset, config.FaultEmpty:
		out.Status = 0
		before(out)
		Abort(w, p.Kind == config.FaultReset)
	case config.FaultTimeout:
		hold := o.Hold
		if hold <= 0 {
			hold = config.MaxFaultHold
		}
		held := time.Now()
		if err := wait(ctx, hold, o.Release); err != nil {
			out.Note = join(out.Note, fmt.Sprintf("ended after %s: %s", time.Since(held).Round(time.Millisecond), endReason(err)))
		} else {
			out.Note = join(out.Note, "held "+hold.String()+", then closed")
		}
		out.Status = 0
		before(out)
		Abort(w, false)
	default:
		body := Mangle(p.Kind, a.Body)
		copyHeader(h, a.Header)
		h.Set(Header, string(p.Kind))
		if p.Kind == config.FaultContentType {
			h.Set("Content-Type", "text/html; charset=utf-8")
		}
		if p.Kind == config.FaultDrip {
			before(out)
			if n := drip(w, r, a.Status, body, p, o.Release); n != "" {
				out.Note = join(out.Note, n)
			}
			return out
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		before(out)
		w.WriteHeader(a.Status)
		_, _ = w.Write(body)
	}
	return out
}

// Mangle returns body as the kind breaks it: a truncated body is cut in half; a malformed one
// loses the quote of its first key ({"errno":0,... becomes {errno":0,...), a syntax error at the
// first key. Other kinds leave the body alone.
func Mangle(kind config.FaultKind, body []byte) []byte {
	switch kind {
	case config.FaultTruncated:
		return body[:len(body)/2]
	case config.FaultMalformed:
		if len(body) < 2 {
			return []byte("{")
		}
		return append([]byte{'{'}, body[2:]...)
	}
	return body
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

// drip sends the headers, then the body a few bytes at a time; it returns a note when it ended early.
func drip(w http.ResponseWriter, r *http.Request, status int, body []byte, p Plan, release <-chan struct{}) string {
	every, n := p.DripInterval, p.DripBytes
	if every <= 0 {
		every = config.DefaultDripInterval
	}
	if n <= 0 {
		n = 1
	}
	w.WriteHeader(status)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	for i := 0; i < len(body); i += n {
		if err := wait(r.Context(), every, release); err != nil {
			return fmt.Sprintf("ended after %d of %d bytes: %s", i, len(body), endReason(err))
		}
		if _, err := w.Write(body[i:min(i+n, len(body))]); err != nil {
			return "the client gave up"
		}
		_ = rc.Flush()
	}
	return ""
}

// wait sleeps for d, or until ctx ends or release is closed.
func wait(ctx context.Context, d time.Duration, release <-chan struct{}) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-release:
		return ErrReleased
	}
}

// endReason says why a held request ended early.
func endReason(err error) string {
	if errors.Is(err, ErrReleased) {
		return err.Error()
	}
	return "the client gave up"
}

// GatewayPage is the HTML error page a gateway in front of the service answers.
func GatewayPage(status int) []byte {
	t := strconv.Itoa(status) + " " + http.StatusText(status)
	return []byte("<html>\r\n<head><title>" + t + "</title></head>\r\n<body>\r\n<center><h1>" + t +
		"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
}

// Abort ends the exchange without an answer: it takes the connection over and closes it, with an
// RST when reset is true. A writer that cannot give its connection up (HTTP/2) has its stream
// aborted with http.ErrAbortHandler, which net/http servers treat as a silent abort.
func Abort(w http.ResponseWriter, reset bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if reset {
		if tcp := innerTCP(conn); tcp != nil {
			_ = tcp.SetLinger(0)
			_ = tcp.Close()
			_ = conn.Close()
			return
		}
	}
	_ = conn.Close()
}

// innerTCP unwraps TLS and proxy-tunnel connections down to the TCP connection.
func innerTCP(c net.Conn) *net.TCPConn {
	for range 8 {
		switch v := c.(type) {
		case *net.TCPConn:
			return v
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}
