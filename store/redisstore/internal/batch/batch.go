// Package batch runs the Redis scripts of concurrent callers in shared pipelines: a caller queues
// its script run and waits; a runner takes every run queued at that moment and sends them in one
// pipeline, one write and one read on one connection. Each script still runs alone and
// atomically in Redis; only the round trip is shared.
package batch

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Batcher runs script calls in pipelines (up to maxBatch a pipeline). Under load this saves
// the system calls and wake-ups of one round trip per call, in the process and in Redis, which
// cost about as much as a short script. A lone call waits for nobody: it goes at once.
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
	keys  []string
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
	b := &Batcher{rdb: rdb, calls: make(chan *sendCall, maxBatch*batchRunners), stop: make(chan struct{})}
	for range batchRunners {
		b.wg.Add(1)
		go b.run()
	}
	return b
}

// Close stops the runners once they have sent the batches they hold; calls still queued, or
// queued later, answer redis.ErrClosed (their callers take them back: see Do).
func (b *Batcher) Close() {
	b.once.Do(func() {
		close(b.stop)
		b.wg.Wait()
	})
}

// Do runs sc with keys and args in the next pipeline and returns its answer. A context
// that ends while the call still waits in the queue takes it back (the script never runs); once
// a runner has taken it, do waits for Redis's answer (bounded by the client's read and write
// timeouts), so an answer is never lost for a script that ran.
func (b *Batcher) Do(ctx context.Context, sc *redis.Script, keys []string, args []any) ([]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &sendCall{sc: sc, keys: keys, args: args, done: make(chan struct{})}
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

// send runs batch as one pipeline of EVALSHA. A call that Redis answers NOSCRIPT (it lost its
// script cache, a restart) did not run: it runs again alone with EVAL.
func (b *Batcher) send(batch []*sendCall) {
	// No caller's context: one caller's end must not fail the others' sends. The client's
	// read and write timeouts bound the wait.
	ctx := context.Background()
	cmds := make([]*redis.Cmd, len(batch))
	_, _ = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range batch {
			cmds[i] = c.sc.EvalSha(ctx, p, c.keys, c.args...)
		}
		return nil
	})
	for i, c := range batch {
		cmd := cmds[i]
		if err := cmd.Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			cmd = c.sc.Eval(ctx, b.rdb, c.keys, c.args...)
		}
		c.xs, c.err = cmd.Slice()
		close(c.done)
	}
}
