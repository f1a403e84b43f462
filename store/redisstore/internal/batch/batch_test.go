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

// echo follows the Batcher's contract: one reply per call (a call is one argument), the number
// of the script run beside the argument, and an error in the place of a call "bad".
var echo = redis.NewScript(`
local run = redis.call('INCR', 'runs')
local out = {}
for i = 1, #ARGV do
  if ARGV[i] == 'bad' then out[i] = redis.error_reply('BAD call') else out[i] = {run, ARGV[i]} end
end
return out
`)

// shout is a second script with the same contract: the argument in capitals.
var shout = redis.NewScript(`
local out = {}
for i = 1, #ARGV do out[i] = {string.upper(ARGV[i])} end
return out
`)

// runnerless is a Batcher on a miniredis of its own, without runners until the test starts one.
func runnerless(t *testing.T) (*miniredis.Miniredis, *Batcher) {
	t.Helper()
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), Protocol: 2})
	t.Cleanup(func() { rdb.Close() })
	b := newBatcher(rdb)
	t.Cleanup(b.Close)
	return m, b
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

// TestBatcher_QueuedCallsShareOneRunEachGetsItsReply queues calls while no runner runs, then
// starts one: the calls of a script share one run, each gets its own reply or error, and a
// second script's calls get a run of their own.
func TestBatcher_QueuedCallsShareOneRunEachGetsItsReply(t *testing.T) {
	m, b := runnerless(t)
	ctx := context.Background()
	calls := []struct {
		sc  *redis.Script
		arg string
	}{{echo, "x"}, {echo, "bad"}, {shout, "y"}, {echo, "z"}}
	type answer struct {
		Xs  []any
		Err string
	}
	got := make([]answer, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() {
			xs, err := b.Do(ctx, c.sc, []any{c.arg})
			got[i].Xs = xs
			if err != nil {
				got[i].Err = err.Error()
			}
		})
	}
	waitQueued(t, b, len(calls))
	b.startRunner()
	wg.Wait()
	want := []answer{{Xs: []any{int64(1), "x"}}, {Err: "BAD call"}, {Xs: []any{"Y"}}, {Xs: []any{int64(1), "z"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	if runs, _ := m.Get("runs"); runs != "1" {
		t.Errorf("echo ran %s times, want once for its three calls", runs)
	}
}

// TestBatcher_CallTakenBackWhileQueuedNeverRuns: a call whose context ends while it waits in the
// queue answers the context's error, and the runner that comes later does not run it.
func TestBatcher_CallTakenBackWhileQueuedNeverRuns(t *testing.T) {
	m, b := runnerless(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := b.Do(ctx, echo, []any{"x"})
		errc <- err
	}()
	waitQueued(t, b, 1)
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("Do: %v, want context.Canceled", err)
	}
	b.startRunner()
	// A later call goes through the same runner, after the abandoned one was drained.
	if xs, err := b.Do(context.Background(), echo, []any{"y"}); err != nil || len(xs) != 2 || xs[1] != "y" {
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
	if _, err := b.Do(context.Background(), echo, []any{"x"}); err != redis.ErrClosed {
		t.Errorf("Do after Close: %v, want redis.ErrClosed", err)
	}
}
