package batch

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// echo answers its run's number (one per call: scripts are never merged) and its argument, or
// an error for the argument "bad".
var echo = redis.NewScript(`
local run = redis.call('INCR', 'runs')
if ARGV[1] == 'bad' then return redis.error_reply('BAD call') end
return {run, ARGV[1]}
`)

// pipelines counts the pipelines a client sends, and the commands in them.
type pipelines struct {
	mu    sync.Mutex
	sizes []int
}

func (p *pipelines) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (p *pipelines) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (p *pipelines) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		p.mu.Lock()
		p.sizes = append(p.sizes, len(cmds))
		p.mu.Unlock()
		return next(ctx, cmds)
	}
}

// runnerless is a Batcher on a miniredis of its own, without runners until the test starts one.
func runnerless(t *testing.T) (*miniredis.Miniredis, *Batcher, *pipelines) {
	t.Helper()
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), Protocol: 2})
	p := &pipelines{}
	rdb.AddHook(p)
	t.Cleanup(func() { rdb.Close() })
	b := newBatcher(rdb)
	t.Cleanup(b.Close)
	return m, b, p
}

// waitQueued waits until n calls wait in b's queue.
func waitQueued(t *testing.T, b *Batcher, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(b.calls) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued, want %d", len(b.calls), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBatcher_QueuedCommandsShareOnePipelineEachGetsItsReply queues commands and script runs
// while no runner runs, then starts one: they go in one pipeline, and each gets its own reply or
// error; a script Redis does not hold yet (NOSCRIPT) runs with EVAL.
func TestBatcher_QueuedCommandsShareOnePipelineEachGetsItsReply(t *testing.T) {
	m, b, p := runnerless(t)
	ctx := context.Background()
	type answer struct {
		Val any
		Err string
	}
	args := []string{"x", "bad", "z"}
	got := make([]answer, len(args)+1)
	var wg sync.WaitGroup
	for i, a := range args {
		wg.Go(func() {
			v, err := b.Run(ctx, echo, nil, a).Result()
			got[i].Val = v
			if err != nil {
				got[i].Err = err.Error()
			}
		})
	}
	wg.Go(func() {
		cmd := redis.NewStringCmd(ctx, "set", "k", "v")
		if err := b.Do(ctx, cmd); err != nil {
			got[len(args)].Err = err.Error()
		}
		got[len(args)].Val = cmd.Val()
	})
	waitQueued(t, b, len(args)+1)
	b.startRunner()
	wg.Wait()
	// Each script call is its own run, in the order the runner took them (any order).
	runs := map[int64]bool{}
	for i, a := range got[:len(args)] {
		if args[i] == "bad" {
			if a.Err != "BAD call" {
				t.Errorf("the bad call: %+v, want its own error", a)
			}
			continue
		}
		xs, _ := a.Val.([]any)
		if a.Err != "" || len(xs) != 2 || xs[1] != args[i] {
			t.Errorf("call %q: %+v", args[i], a)
			continue
		}
		runs[xs[0].(int64)] = true
	}
	if diff := cmp.Diff(answer{Val: "OK"}, got[len(args)]); diff != "" {
		t.Errorf("the plain command (-want +got):\n%s", diff)
	}
	if v, _ := m.Get("k"); v != "v" {
		t.Errorf("k = %q", v)
	}
	if len(runs) != 2 {
		t.Errorf("runs %v: want each call run once", runs)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.sizes) == 0 || p.sizes[0] != len(args)+1 {
		t.Errorf("pipelines %v: want the first to hold all %d commands", p.sizes, len(args)+1)
	}
}

// TestBatcher_CallTakenBackWhileQueuedNeverRuns: a call whose context ends while it waits in the
// queue answers the context's error, and the runner that comes later does not run it.
func TestBatcher_CallTakenBackWhileQueuedNeverRuns(t *testing.T) {
	m, b, _ := runnerless(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- b.Run(ctx, echo, nil, "x").Err()
	}()
	waitQueued(t, b, 1)
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	b.startRunner()
	// A later call goes through the same runner, after the abandoned one was drained.
	if xs, err := b.Run(context.Background(), echo, nil, "y").Slice(); err != nil || len(xs) != 2 || xs[1] != "y" {
		t.Fatalf("the next call: %v, %v", xs, err)
	}
	if runs, _ := m.Get("runs"); runs != "1" {
		t.Errorf("echo ran %s times, want once (the abandoned call never)", runs)
	}
}

// TestBatcher_ClosedAnswersErrClosed: a call after Close answers redis.ErrClosed at once.
func TestBatcher_ClosedAnswersErrClosed(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), Protocol: 2})
	t.Cleanup(func() { rdb.Close() })
	b := New(rdb)
	b.Close()
	b.Close() // idempotent
	if err := b.Run(context.Background(), echo, nil, "x").Err(); err != redis.ErrClosed {
		t.Errorf("Run after Close: %v, want redis.ErrClosed", err)
	}
	if err := b.Do(context.Background(), redis.NewStatusCmd(context.Background(), "ping")); err != redis.ErrClosed {
		t.Errorf("Do after Close: %v, want redis.ErrClosed", err)
	}
}
