// Package batch runs the Redis script calls of concurrent callers together: a caller queues its
// call and waits; a runner takes every call queued at that moment and sends each script once,
// with the arguments of all its calls one after the other, in one pipeline: one write and one
// read on one connection, one script run for many calls. A script run this way decides its
// calls in turn, each as if it ran alone, and answers an array with one reply per call (an
// error in a call's place is that call's alone), so each call is still decided atomically and
// exactly once; what is shared is the round trip and the cost of starting a script.
package batch

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Batcher runs script calls in shared script runs and pipelines (up to maxBatch calls a
// pipeline). Under load this saves the system calls and wake-ups of one round trip per call, in
// the process and in Redis, and the cost of starting a script for each call (about a sixth of a
// send's cost in Redis). A lone call waits for nobody: it goes at once.
type Batcher struct {
	rdb   *redis.Client
	calls chan *sendCall
	stop  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

// sendCall is one script run through a Batcher.
type sendCall struct {
	sc    *redis.Script
	args  []any
	state atomic.Int32 // callQueued, callTaken or callAbandoned
	xs    []any
	err   error
	done  chan struct{} // closed once xs and err are set
}

const (
	callQueued int32 = iota
	callTaken
	callAbandoned
)

const (
	// batchRunners is how many pipelines may be in flight at once: while one waits for Redis,
	// the next gathers the calls that arrive meanwhile.
	batchRunners = 4
	// maxBatch is the most sends in one pipeline.
	maxBatch = 64
)

// New starts the runners of a Batcher on rdb; Close stops them.
func New(rdb *redis.Client) *Batcher {
	b := newBatcher(rdb)
	for range batchRunners {
		b.startRunner()
	}
	return b
}

// newBatcher is a Batcher without runners yet.
func newBatcher(rdb *redis.Client) *Batcher {
	return &Batcher{rdb: rdb, calls: make(chan *sendCall, maxBatch*batchRunners), stop: make(chan struct{})}
}

// startRunner starts one more runner.
func (b *Batcher) startRunner() {
	b.wg.Add(1)
	go b.run()
}

// Close stops the runners once they have sent the batches they hold; calls still queued, or
// queued later, answer redis.ErrClosed (their callers take them back: see Do).
func (b *Batcher) Close() {
	b.once.Do(func() {
		close(b.stop)
		b.wg.Wait()
	})
}

// Do runs sc with args (no KEYS) in the next pipeline and returns its reply to this call: sc
// takes the arguments of several calls one after the other and answers one reply per call (see
// the package doc). A context that ends while the call still waits in the queue takes it back
// (the script never runs); once a runner has taken it, Do waits for Redis's answer (bounded by
// the client's read and write timeouts), so an answer is never lost for a script that ran.
// Either way nothing reads args once Do has returned: a caller may reuse their memory.
func (b *Batcher) Do(ctx context.Context, sc *redis.Script, args []any) ([]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &sendCall{sc: sc, args: args, done: make(chan struct{})}
	select {
	case b.calls <- c:
	case <-b.stop:
		return nil, redis.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		if c.state.CompareAndSwap(callQueued, callAbandoned) {
			return nil, ctx.Err()
		}
		<-c.done
	case <-b.stop:
		if c.state.CompareAndSwap(callQueued, callAbandoned) {
			return nil, redis.ErrClosed
		}
		<-c.done
	}
	return c.xs, c.err
}

// run gathers and sends batches until stop.
func (b *Batcher) run() {
	defer b.wg.Done()
	batch := make([]*sendCall, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case c := <-b.calls:
			batch = b.take(batch, c)
		case <-b.stop:
			return
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case c := <-b.calls:
				batch = b.take(batch, c)
			default:
				break gather
			}
		}
		if len(batch) > 0 {
			b.send(batch)
		}
	}
}

// take adds c to batch unless its caller took it back.
func (b *Batcher) take(batch []*sendCall, c *sendCall) []*sendCall {
	if c.state.CompareAndSwap(callQueued, callTaken) {
		batch = append(batch, c)
	}
	return batch
}

// send runs batch as one pipeline of EVALSHA, one per script with the arguments of all its calls.
// A run that Redis answers NOSCRIPT (it lost its script cache, a restart) did not run: it runs
// again with EVAL.
func (b *Batcher) send(batch []*sendCall) {
	// No caller's context: one caller's end must not fail the others' sends. The client's
	// read and write timeouts bound the wait.
	ctx := context.Background()
	var runs []*scriptRun
	for _, c := range batch {
		var r *scriptRun
		for _, x := range runs {
			if x.sc == c.sc {
				r = x
				break
			}
		}
		if r == nil {
			r = &scriptRun{sc: c.sc}
			runs = append(runs, r)
		}
		r.calls = append(r.calls, c)
		r.args = append(r.args, c.args...)
	}
	_, _ = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, r := range runs {
			r.cmd = r.sc.EvalSha(ctx, p, nil, r.args...)
		}
		return nil
	})
	for _, r := range runs {
		if err := r.cmd.Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			r.cmd = r.sc.Eval(ctx, b.rdb, nil, r.args...)
		}
		r.answer()
	}
}

// scriptRun is one script's run for some calls of a batch.
type scriptRun struct {
	sc    *redis.Script
	calls []*sendCall
	args  []any
	cmd   *redis.Cmd
}

// answer gives each call of r its reply: its element of the script's answer, or the error of
// the whole run.
func (r *scriptRun) answer() {
	xs, err := r.cmd.Slice()
	if err == nil && len(xs) != len(r.calls) {
		err = fmt.Errorf("batch: %d replies for %d calls", len(xs), len(r.calls))
	}
	for i, c := range r.calls {
		var reply any = err
		if err == nil {
			reply = xs[i]
		}
		switch x := reply.(type) {
		case []any:
			c.xs = x
		case error:
			c.err = x
		default:
			c.err = fmt.Errorf("batch: unexpected reply %T", x)
		}
		close(c.done)
	}
}
