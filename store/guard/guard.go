// Package guard puts a deadline and a breaker between the API core and a store that may stop
// answering (Redis): every call gets at most Options.Deadline, and while the store does not
// answer, calls fail at once with store.ErrUnavailable instead of each waiting for its deadline.
// One call every Options.Probe goes through as a probe; the first call that succeeds closes the
// breaker again. It decides nothing of Baidu's: the core words what a failure answers (error_code
// 2 for sends and token requests, 503 for the admin API).
//
// A call that ends at its deadline may still run in the store afterwards (its command was sent);
// the store's own primitives say how they keep that from counting twice, and the core reconciles
// what a send's client was told.
package guard

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/smartappmock/smartappmock/store"
)

// Options tune a guarded store. The zero value takes the defaults.
type Options struct {
	// Deadline bounds every call (1s when <= 0), Feed's wait excepted (it waits by design).
	Deadline time.Duration
	// Probe is how often one call goes through to the store while the breaker is open (250ms when
	// <= 0); the others fail at once.
	Probe time.Duration
	// Now is the clock of the breaker (time.Now when nil).
	Now func() time.Time
}

// DefaultDeadline is the deadline of a store call when none is set.
const DefaultDeadline = time.Second

// Breaker is the state of a guarded store, shared by its wrappers.
type Breaker struct {
	opts      Options
	open      atomic.Bool
	nextProbe atomic.Int64 // unix nanoseconds
	since     atomic.Int64 // when the breaker opened (unix nanoseconds)
	lastErr   atomic.Pointer[error]
}

// Open reports whether the breaker is open (the store did not answer lately), and since when.
func (b *Breaker) Open() (bool, time.Time) {
	if !b.open.Load() {
		return false, time.Time{}
	}
	return true, time.Unix(0, b.since.Load())
}

// Deadline is the deadline of one call.
func (b *Breaker) Deadline() time.Duration { return b.opts.Deadline }

// errOpen is the error of a call the breaker refused: it was never sent to the store.
type errOpen struct{ cause error }

func (e *errOpen) Error() string {
	msg := "the store did not answer lately; call not sent (the breaker probes it again shortly)"
	if e.cause != nil {
		msg += ": last error: " + e.cause.Error()
	}
	return msg
}

func (e *errOpen) Is(target error) bool {
	return target == store.ErrUnavailable || target == ErrNotSent
}

// ErrNotSent matches (errors.Is) the error of a call that the breaker refused without sending it:
// the store certainly did not run it.
var ErrNotSent = errors.New("not sent to the store")

// begin starts a call: it refuses it while the breaker is open (but for a probe), or returns its
// context with the deadline.
func (b *Breaker) begin(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if b.open.Load() {
		now := b.opts.Now().UnixNano()
		next := b.nextProbe.Load()
		if now < next || !b.nextProbe.CompareAndSwap(next, now+int64(b.opts.Probe)) {
			var cause error
			if p := b.lastErr.Load(); p != nil {
				cause = *p
			}
			return nil, nil, &errOpen{cause}
		}
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= b.opts.Deadline {
		return ctx, noCancel, nil // the caller's deadline is the nearer one (a send's: see the core)
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.Deadline)
	return ctx, cancel, nil
}

func noCancel() {}

// end records a call's outcome: no answer (store.ErrUnavailable, or the deadline missed) opens
// the breaker; any answer closes it, an error answered too (an unknown app, a full store); the
// caller's own end does neither. It returns err, marked store.ErrUnavailable when it is no answer.
func (b *Breaker) end(parent context.Context, err error) error {
	if errors.Is(parent.Err(), context.Canceled) {
		return err // the caller went away: not the store's failure (a deadline missed is)
	}
	if !errors.Is(err, store.ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
		// An answer, an error among them (an unknown app, a full store, a refusal of Redis's).
		if b.open.Load() {
			b.open.Store(false)
		}
		return err
	}
	if !b.open.Load() {
		now := b.opts.Now().UnixNano()
		b.since.Store(now)
		b.nextProbe.Store(now + int64(b.opts.Probe))
		b.open.Store(true)
	}
	b.lastErr.Store(&err)
	if errors.Is(err, store.ErrUnavailable) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: no answer within %s (%w)", store.ErrUnavailable, b.opts.Deadline, err)
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

// call runs f under the breaker.
func call[T any](b *Breaker, ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	cctx, cancel, err := b.begin(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	defer cancel()
	v, err := f(cctx)
	return v, b.end(ctx, err)
}

// call0 is call for a function that answers only an error.
func call0(b *Breaker, ctx context.Context, f func(context.Context) error) error {
	_, err := call(b, ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx) })
	return err
}

// Local is implemented by stores that never wait (the in-memory store): New leaves them as they are.
type Local interface {
	// InProcess reports that the store's calls never wait for anything outside the process.
	InProcess() bool
}

// New returns st guarded by a deadline and a breaker, with the same optional interfaces
// (store.Clock, store.Pusher, store.Outbox) as st, and the breaker. A store that is Local is returned as it is
// (with a breaker that never opens).
func New(st store.Store, opts Options) (store.Store, *Breaker) {
	if opts.Deadline <= 0 {
		opts.Deadline = DefaultDeadline
	}
	if opts.Probe <= 0 {
		opts.Probe = 250 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b := &Breaker{opts: opts}
	if l, ok := st.(Local); ok && l.InProcess() {
		return st, b
	}
	if g, ok := st.(guarded); ok {
		return st, g.breaker() // guarded already
	}
	g := &Store{inner: st, b: b}
	c, isClock := st.(store.Clock)
	p, isPusher := st.(store.Pusher)
	o, isOutbox := st.(store.Outbox)
	gc, gp, gout := clock{g, c}, pusher{g, p}, outbox{g, o}
	// The wrapper has exactly the optional interfaces of st: the core finds them by type
	// assertion, and a store without one must stay without it.
	switch {
	case isClock && isPusher && isOutbox:
		return &struct {
			*Store
			clock
			pusher
			outbox
		}{g, gc, gp, gout}, b
	case isClock && isPusher:
		return &struct {
			*Store
			clock
			pusher
		}{g, gc, gp}, b
	case isClock && isOutbox:
		return &struct {
			*Store
			clock
			outbox
		}{g, gc, gout}, b
	case isPusher && isOutbox:
		return &struct {
			*Store
			pusher
			outbox
		}{g, gp, gout}, b
	case isClock:
		return &struct {
			*Store
			clock
		}{g, gc}, b
	case isPusher:
		return &struct {
			*Store
			pusher
		}{g, gp}, b
	case isOutbox:
		return &struct {
			*Store
			outbox
		}{g, gout}, b
	}
	return g, b
}

// guarded is every wrapper of this package.
type guarded interface {
	breaker() *Breaker
	Inner() store.Store
}

// Unwrap returns the store that st guards, or st when it is no store of this package.
func Unwrap(st store.Store) store.Store {
	if g, ok := st.(guarded); ok {
		return g.Inner()
	}
	return st
}

type clock struct {
	g *Store
	c store.Clock
}

// AppNow implements store.Clock under the breaker.
func (c clock) AppNow(ctx context.Context, app store.App) (time.Time, error) {
	return call(c.g.b, ctx, func(ctx context.Context) (time.Time, error) { return c.c.AppNow(ctx, app) })
}

type pusher struct {
	g *Store
	p store.Pusher
}

// PutPush implements store.Pusher under the breaker.
func (p pusher) PutPush(ctx context.Context, app string, cfg []byte) error {
	return call0(p.g.b, ctx, func(ctx context.Context) error { return p.p.PutPush(ctx, app, cfg) })
}

// Push implements store.Pusher under the breaker.
func (p pusher) Push(ctx context.Context, app string) ([]byte, bool, error) {
	type r struct {
		b  []byte
		ok bool
	}
	v, err := call(p.g.b, ctx, func(ctx context.Context) (r, error) {
		b, ok, err := p.p.Push(ctx, app)
		return r{b, ok}, err
	})
	return v.b, v.ok, err
}

// DeletePush implements store.Pusher under the breaker.
func (p pusher) DeletePush(ctx context.Context, app string) error {
	return call0(p.g.b, ctx, func(ctx context.Context) error { return p.p.DeletePush(ctx, app) })
}

// NextMsgID implements store.Pusher under the breaker.
func (p pusher) NextMsgID(ctx context.Context) (uint64, error) {
	return call(p.g.b, ctx, p.p.NextMsgID)
}

type outbox struct {
	g *Store
	o store.Outbox
}

// Enqueue implements store.Outbox under the breaker.
func (o outbox) Enqueue(ctx context.Context, job []byte) (string, error) {
	return call(o.g.b, ctx, func(ctx context.Context) (string, error) { return o.o.Enqueue(ctx, job) })
}

// Claim implements store.Outbox under the breaker.
func (o outbox) Claim(ctx context.Context, consumer string, lease time.Duration, max int) ([]store.Claimed, error) {
	return call(o.g.b, ctx, func(ctx context.Context) ([]store.Claimed, error) { return o.o.Claim(ctx, consumer, lease, max) })
}

// Extend implements store.Outbox under the breaker.
func (o outbox) Extend(ctx context.Context, consumer, id string, lease time.Duration) (bool, error) {
	return call(o.g.b, ctx, func(ctx context.Context) (bool, error) { return o.o.Extend(ctx, consumer, id, lease) })
}

// Release implements store.Outbox under the breaker.
func (o outbox) Release(ctx context.Context, consumer, id string) error {
	return call0(o.g.b, ctx, func(ctx context.Context) error { return o.o.Release(ctx, consumer, id) })
}

// Finish implements store.Outbox under the breaker.
func (o outbox) Finish(ctx context.Context, id string, result []byte, keep time.Duration) error {
	return call0(o.g.b, ctx, func(ctx context.Context) error { return o.o.Finish(ctx, id, result, keep) })
}

// Result implements store.Outbox under the breaker.
func (o outbox) Result(ctx context.Context, id string) ([]byte, bool, error) {
	type r struct {
		b  []byte
		ok bool
	}
	v, err := call(o.g.b, ctx, func(ctx context.Context) (r, error) {
		b, ok, err := o.o.Result(ctx, id)
		return r{b, ok}, err
	})
	return v.b, v.ok, err
}

// OutboxDepth implements store.Outbox under the breaker.
func (o outbox) OutboxDepth(ctx context.Context) (int, error) {
	return call(o.g.b, ctx, o.o.OutboxDepth)
}
