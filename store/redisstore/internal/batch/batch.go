// Package batch pipelines the Redis commands of concurrent callers automatically: a caller queues
// its command and waits; a runner takes every command queued at that moment and sends them in one
// pipeline (one write and one read on one connection), then answers each caller its own reply.
// Each command still runs alone and atomically in Redis (a script is still one step); what the
// callers share is the round trip: the system calls and wake-ups, in the process and in Redis.
// A lone command waits for nobody: it goes at once.
package batch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Batcher sends queued commands in shared pipelines (up to maxBatch commands a pipeline).
type Batcher struct {
	rdb   *redis.Client
	calls chan *call
	stop  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

// call is one command through a Batcher.
type call struct {
	cmd   redis.Cmder
	sc    *redis.Script // the script of an EVALSHA, to run with EVAL after NOSCRIPT
	keys  []string
	args  []any
	state atomic.Int32 // callQueued, callTaken or callAbandoned
	done  chan struct{}
}

const (
	callQueued int32 = iota
	callTaken
	callAbandoned
)

const (
	// runners is how many pipelines may be in flight at once: while one waits for Redis, the
	// next gathers the commands that arrive meanwhile.
	runners = 4
	// maxBatch is the most commands in one pipeline.
	maxBatch = 128
)

// New starts the runners of a Batcher on rdb; Close stops them.
func New(rdb *redis.Client) *Batcher {
	b := newBatcher(rdb)
	for range runners {
		b.startRunner()
	}
	return b
}

// newBatcher is a Batcher without runners yet.
func newBatcher(rdb *redis.Client) *Batcher {
	return &Batcher{rdb: rdb, calls: make(chan *call, maxBatch*runners), stop: make(chan struct{})}
}

// startRunner starts one more runner.
func (b *Batcher) startRunner() {
	b.wg.Add(1)
	go b.loop()
}

// ErrOutcomeUnknown is matched by the error of a call whose context ended after a runner took
// its command: the command may have run, or may run yet. Its arguments may still be read.
var ErrOutcomeUnknown = errors.New("outcome unknown: the command was sent, its answer not awaited")

// Close stops the runners once they have sent the pipelines they hold; commands still queued, or
// queued later, answer redis.ErrClosed (their callers take them back: see Do).
func (b *Batcher) Close() {
	b.once.Do(func() {
		close(b.stop)
		b.wg.Wait()
	})
}

// Do sends cmd in the next pipeline and returns its error (its reply is in cmd, unless the error
// is ErrOutcomeUnknown: cmd then belongs to the runner still, and must not be read). A context that
// ends while the command still waits in the queue takes it back (it is never sent); once a
// runner has taken it, Do waits for Redis's answer (bounded by the client's read and write
// timeouts) or for the context's end, whichever comes first: a context that ends then answers
// ErrOutcomeUnknown, and the command's arguments may still be read (a caller reuses their memory
// only after a nil error or another error).
func (b *Batcher) Do(ctx context.Context, cmd redis.Cmder) error {
	return b.do(ctx, &call{cmd: cmd})
}

// Run runs sc with keys and args as EVALSHA in the next pipeline, as Do does, and with EVAL when
// Redis answers NOSCRIPT (it lost its script cache: a restart).
func (b *Batcher) Run(ctx context.Context, sc *redis.Script, keys []string, args ...any) *redis.Cmd {
	cmdArgs := make([]any, 0, 3+len(keys)+len(args))
	cmdArgs = append(cmdArgs, "evalsha", sc.Hash(), len(keys))
	for _, k := range keys {
		cmdArgs = append(cmdArgs, k)
	}
	cmdArgs = append(cmdArgs, args...)
	cmd := redis.NewCmd(ctx, cmdArgs...)
	if err := b.do(ctx, &call{cmd: cmd, sc: sc, keys: keys, args: args}); errors.Is(err, ErrOutcomeUnknown) {
		lost := redis.NewCmd(ctx) // cmd still belongs to the runner
		lost.SetErr(err)
		return lost
	}
	return cmd
}

func (b *Batcher) do(ctx context.Context, c *call) error {
	if err := ctx.Err(); err != nil {
		c.cmd.SetErr(err)
		return err
	}
	c.done = make(chan struct{})
	select {
	case b.calls <- c:
	case <-b.stop:
		c.cmd.SetErr(redis.ErrClosed)
		return redis.ErrClosed
	case <-ctx.Done():
		c.cmd.SetErr(ctx.Err())
		return ctx.Err()
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		if c.state.CompareAndSwap(callQueued, callAbandoned) {
			c.cmd.SetErr(ctx.Err())
			return ctx.Err()
		}
		// Taken: the command may be sent and run yet. The caller is told so (ErrOutcomeUnknown)
		// and must not reuse the arguments' memory.
		return fmt.Errorf("%w: %w", ErrOutcomeUnknown, ctx.Err())
	case <-b.stop:
		if c.state.CompareAndSwap(callQueued, callAbandoned) {
			c.cmd.SetErr(redis.ErrClosed)
			return redis.ErrClosed
		}
		<-c.done
	}
	return c.cmd.Err()
}

// loop gathers and sends pipelines until stop.
func (b *Batcher) loop() {
	defer b.wg.Done()
	batch := make([]*call, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case c := <-b.calls:
			batch = take(batch, c)
		case <-b.stop:
			return
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case c := <-b.calls:
				batch = take(batch, c)
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
func take(batch []*call, c *call) []*call {
	if c.state.CompareAndSwap(callQueued, callTaken) {
		batch = append(batch, c)
	}
	return batch
}

// send writes batch as one pipeline and answers every call. A script that Redis answers NOSCRIPT
// did not run: it runs again with EVAL.
func (b *Batcher) send(batch []*call) {
	// No caller's context: one caller's end must not fail the others' commands. The client's
	// read and write timeouts bound the wait.
	ctx := context.Background()
	_, _ = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, c := range batch {
			_ = p.Process(ctx, c.cmd)
		}
		return nil
	})
	for _, c := range batch {
		if err := c.cmd.Err(); c.sc != nil && err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			again := c.sc.Eval(ctx, b.rdb, c.keys, c.args...)
			cmd := c.cmd.(*redis.Cmd)
			cmd.SetVal(again.Val())
			cmd.SetErr(again.Err())
		}
		close(c.done)
	}
}
