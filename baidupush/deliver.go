package baidupush

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxBodyBytes is how much of an answer an Attempt keeps.
const MaxBodyBytes = 256

// Option adjusts one Deliver, DeliverAll or Handshake call: injected clock and randomness for
// reproducible encodings, and push faults.
type Option func(*settings)

type settings struct {
	now        func() time.Time
	rand       io.Reader
	sleep      func(context.Context, time.Duration) error
	hooks      []func(attempt int, r *Request)
	observers  []func(msgID int64, a Attempt)
	requests   []func(msgID int64, attempt int, r *Request)
	faults     []string
	duplicate  bool
	delay      time.Duration
	outOfOrder bool
}

func newSettings(opts []Option) *settings {
	s := &settings{now: time.Now, rand: rand.Reader, sleep: sleep}
	for _, o := range opts {
		o(s)
	}
	return s
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WithClock sets the clock of the timestamp parameter (default time.Now). Latencies are always
// measured on the real clock.
func WithClock(now func() time.Time) Option { return func(s *settings) { s.now = now } }

// WithRand sets the source of nonces, echoStr and the random prefix of the encrypted block
// (default crypto/rand). A reader that is not safe for concurrent use makes the call unsafe too.
func WithRand(r io.Reader) Option { return func(s *settings) { s.rand = r } }

// WithSleep replaces the pause of Delay and Config.RetryDelay (default: a timer that stops when
// the context ends), so that tests need not wait.
func WithSleep(f func(context.Context, time.Duration) error) Option {
	return func(s *settings) { s.sleep = f }
}

// WithRequestHook calls h on a copy of the encoded push before each attempt (1, 2, …), so that
// a caller can inject faults of its own; name appears in Result.Faults.
func WithRequestHook(name string, h func(attempt int, r *Request)) Option {
	return func(s *settings) {
		s.hooks = append(s.hooks, h)
		s.faults = append(s.faults, name)
	}
}

// OnAttempt calls f after each attempt (the duplicate included), before the next one starts,
// so that a caller can record attempts as they happen (journal, metrics, a live inbox).
func OnAttempt(f func(msgID int64, a Attempt)) Option {
	return func(s *settings) { s.observers = append(s.observers, f) }
}

// The names of the built-in faults, as they appear in Result.Faults.
const (
	// FaultDuplicate names the Duplicate option.
	FaultDuplicate = "duplicate"
	// FaultDelay names the Delay option.
	FaultDelay = "delay"
	// FaultWrongSignature names the WrongSignature option.
	FaultWrongSignature = "wrong_signature"
	// FaultOutOfOrder names the OutOfOrder option.
	FaultOutOfOrder = "out_of_order"
)

// Duplicate delivers an acknowledged push once more, byte for byte (same MsgId, signature,
// timestamp and nonce): the attempt is marked Duplicate and does not change the outcome.
func Duplicate() Option {
	return func(s *settings) { s.duplicate = true; s.faults = append(s.faults, FaultDuplicate) }
}

// Delay waits d before the first attempt of each message.
func Delay(d time.Duration) Option {
	return func(s *settings) { s.delay = d; s.faults = append(s.faults, FaultDelay) }
}

// WrongSignature corrupts signature and msg_signature (in the query, and in the body envelope)
// on every attempt: a bot must not act on the push, and should not acknowledge it.
func WrongSignature() Option {
	return WithRequestHook(FaultWrongSignature, func(_ int, r *Request) {
		for _, k := range []string{ParamSignature, ParamMsgSignature} {
			if v := r.Query.Get(k); v != "" {
				r.Query.Set(k, corrupt(v))
			}
		}
		if r.MsgSignature != "" {
			r.Body = bytes.ReplaceAll(r.Body, []byte(r.MsgSignature), []byte(corrupt(r.MsgSignature)))
			r.MsgSignature = corrupt(r.MsgSignature)
		}
	})
}

// corrupt changes the last hex digit of a signature: still well-formed, no longer right.
func corrupt(sig string) string {
	if sig == "" {
		return "0"
	}
	last := byte('0')
	if sig[len(sig)-1] == '0' {
		last = '1'
	}
	return sig[:len(sig)-1] + string(last)
}

// OutOfOrder makes DeliverAll deliver its messages last to first, so that a later message
// arrives before an earlier one (with one message it changes nothing).
func OutOfOrder() Option {
	return func(s *settings) { s.outOfOrder = true; s.faults = append(s.faults, FaultOutOfOrder) }
}

// Outcome is how a delivery ended.
type Outcome string

// The outcomes of a delivery.
const (
	// OutcomeDelivered means an attempt was acknowledged.
	OutcomeDelivered Outcome = "delivered"
	// OutcomeFailed means every attempt failed.
	OutcomeFailed Outcome = "failed"
	// OutcomeCanceled means the context ended (or a pause was cut short) before an acknowledgement.
	OutcomeCanceled Outcome = "canceled"
	// OutcomeInvalid means the configuration or the message is invalid; nothing was sent.
	OutcomeInvalid Outcome = "invalid"
)

// Attempt is one POST of a push.
type Attempt struct {
	// N numbers the attempts of one message from 1.
	N int `json:"n"`
	// Duplicate marks the extra delivery of the Duplicate fault.
	Duplicate bool `json:"duplicate,omitempty"`
	// Start is when the request was sent (real clock).
	Start time.Time `json:"start"`
	// Latency is the time until the answer was read or the attempt failed.
	Latency time.Duration `json:"latency_ns"`
	// Status is the HTTP status, 0 when no answer came.
	Status int `json:"status,omitempty"`
	// Body is the first MaxBodyBytes bytes of the answer.
	Body string `json:"body,omitempty"`
	// Truncated says the answer was longer than Body.
	Truncated bool `json:"truncated,omitempty"`
	// Acked says the answer was an acknowledgement: a 2xx with body "success" or empty.
	Acked bool `json:"acked"`
	// Reason says why the attempt is not an acknowledgement.
	Reason string `json:"reason,omitempty"`
}

// Result is the delivery of one message.
type Result struct {
	// MsgID is the MsgId every attempt carried.
	MsgID int64 `json:"msg_id"`
	// Outcome is how it ended.
	Outcome Outcome `json:"outcome"`
	// Reason explains an outcome other than delivered.
	Reason string `json:"reason,omitempty"`
	// Sequence is the position of this message in the delivery order of DeliverAll, from 1.
	Sequence int `json:"sequence"`
	// Faults names the faults applied, in the order of the options.
	Faults []string `json:"faults,omitempty"`
	// Attempts lists every POST, the duplicate included.
	Attempts []Attempt `json:"attempts"`
}

// Delivered reports whether an attempt was acknowledged.
func (r Result) Delivered() bool { return r.Outcome == OutcomeDelivered }

// Deliver pushes m to c.URL: one POST per attempt, up to c.Attempts(), each limited by
// c.Timeout, all with the same MsgId (and the same bytes). An answer is an acknowledgement when
// its status is 2xx and its body is exactly "success" or empty; anything else, a timeout or a
// connection error is retried; redirects are not followed. Empty settings of c take their
// defaults, except ClientID (see Config.WithDefaults). A nil client means one without a timeout
// of its own.
func Deliver(ctx context.Context, client *http.Client, c Config, m Message, opts ...Option) Result {
	return DeliverAll(ctx, client, c, []Message{m}, opts...)[0]
}

// DeliverAll delivers msgs one after the other (last to first under OutOfOrder) and returns
// their results in the order of msgs.
func DeliverAll(ctx context.Context, client *http.Client, c Config, msgs []Message, opts ...Option) []Result {
	s := newSettings(opts)
	client = noRedirects(client)
	c = c.WithDefaults(c.ClientID)
	order := make([]int, len(msgs))
	for i := range order {
		order[i] = i
	}
	if s.outOfOrder {
		slices.Reverse(order)
	}
	results := make([]Result, len(msgs))
	for seq, i := range order {
		r := deliver(ctx, client, c, msgs[i], s)
		r.Sequence = seq + 1
		results[i] = r
	}
	return results
}

func deliver(ctx context.Context, client *http.Client, c Config, m Message, s *settings) Result {
	res := Result{MsgID: m.MsgID, Faults: slices.Clone(s.faults), Attempts: []Attempt{}}
	if err := errors.Join(c.Validate(), m.Validate()); err != nil {
		res.Outcome, res.Reason = OutcomeInvalid, err.Error()
		return res
	}
	p, err := s.params()
	if err == nil {
		var req *Request
		if req, err = Encode(c, m, p); err == nil {
			return s.send(ctx, client, c, req, res)
		}
	}
	res.Outcome, res.Reason = OutcomeInvalid, err.Error()
	return res
}

func (s *settings) send(ctx context.Context, client *http.Client, c Config, req *Request, res Result) Result {
	if s.delay > 0 {
		if err := s.sleep(ctx, s.delay); err != nil {
			res.Outcome, res.Reason = OutcomeCanceled, fmt.Sprintf("canceled during the %s delay: %v", s.delay, err)
			return res
		}
	}
	attempts := c.Attempts()
	for n := 1; n <= attempts; n++ {
		if n > 1 && c.RetryDelay > 0 {
			if err := s.sleep(ctx, time.Duration(c.RetryDelay)); err != nil {
				res.Outcome = OutcomeCanceled
				res.Reason = fmt.Sprintf("canceled during the %s pause after attempt %d of %d: %v", c.RetryDelay, n-1, attempts, err)
				return res
			}
		}
		if ctx.Err() != nil {
			break
		}
		r := req.Clone()
		for _, h := range s.hooks {
			h(n, r)
		}
		s.sending(req.MsgID, n, r)
		a := attempt(ctx, client, c, r, n)
		res.Attempts = append(res.Attempts, a)
		s.observe(req.MsgID, a)
		if a.Acked {
			res.Outcome = OutcomeDelivered
			if s.duplicate {
				s.sending(req.MsgID, n+1, r)
				d := attempt(ctx, client, c, r, n+1)
				d.Duplicate = true
				res.Attempts = append(res.Attempts, d)
				s.observe(req.MsgID, d)
			}
			return res
		}
	}
	last := "none"
	if k := len(res.Attempts); k > 0 {
		last = res.Attempts[k-1].Reason
	}
	if ctx.Err() != nil {
		res.Outcome = OutcomeCanceled
		res.Reason = fmt.Sprintf("canceled after %d of %d attempts (%v); last: %s", len(res.Attempts), attempts, ctx.Err(), last)
		return res
	}
	res.Outcome = OutcomeFailed
	res.Reason = fmt.Sprintf("none of %d attempts acknowledged; last: %s", len(res.Attempts), last)
	return res
}

func (s *settings) observe(msgID int64, a Attempt) {
	for _, f := range s.observers {
		f(msgID, a)
	}
}

// noRedirects returns a copy of client that does not follow redirects: a 3xx is an answer
// like any other (not an acknowledgement), as Baidu is not known to follow them [inf].
func noRedirects(client *http.Client) *http.Client {
	c := &http.Client{}
	if client != nil {
		*c = *client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// attempt sends r once and judges the answer.
func attempt(ctx context.Context, client *http.Client, c Config, r *Request, n int) Attempt {
	a := Attempt{N: n, Start: time.Now()}
	actx, cancel := context.WithTimeout(ctx, time.Duration(c.Timeout))
	defer cancel()
	hr, err := r.HTTPRequest(actx, c.URL)
	if err != nil {
		a.Reason = "request: " + err.Error()
		return a
	}
	resp, err := client.Do(hr)
	if err != nil {
		a.Latency = time.Since(a.Start)
		a.Reason = transportReason(actx, ctx, c, err)
		return a
	}
	defer resp.Body.Close()
	a.Status = resp.StatusCode
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	a.Latency = time.Since(a.Start)
	a.Body, a.Truncated = clip(body)
	if err != nil {
		a.Reason = "reading the answer: " + transportReason(actx, ctx, c, err)
		return a
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	a.Reason = ackReason(resp.StatusCode, body)
	a.Acked = a.Reason == ""
	return a
}

func clip(b []byte) (string, bool) {
	if len(b) > MaxBodyBytes {
		return string(b[:MaxBodyBytes]), true
	}
	return string(b), false
}

// ackReason says why an answer is not an acknowledgement, or "".
func ackReason(status int, body []byte) string {
	if status < 200 || status > 299 {
		return "HTTP " + strconv.Itoa(status) + " " + http.StatusText(status) + "; want 2xx with body success or empty"
	}
	if len(body) == 0 || string(body) == "success" {
		return ""
	}
	why := fmt.Sprintf("body %q is neither success nor empty", clipString(string(body), 64))
	if t := strings.TrimSpace(string(body)); strings.EqualFold(t, "success") {
		why += " (near miss: exactly success, without spaces, newlines or capitals)"
	}
	return why
}

func clipString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func transportReason(actx, ctx context.Context, c Config, err error) string {
	switch {
	case ctx.Err() != nil:
		return "canceled: " + ctx.Err().Error()
	case errors.Is(actx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("timeout: no answer within %s", c.Timeout)
	}
	return "connection: " + err.Error()
}

// params draws the timestamp, nonce and random prefix of one push.
func (s *settings) params() (Params, error) {
	var b [4 + RandomSize]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return Params{}, fmt.Errorf("randomness: %w", err)
	}
	p := Params{
		Timestamp: strconv.FormatInt(s.now().Unix(), 10),
		Nonce:     strconv.FormatUint(uint64(binary.BigEndian.Uint32(b[:4])), 10),
	}
	copy(p.Random[:], b[4:])
	return p, nil
}
