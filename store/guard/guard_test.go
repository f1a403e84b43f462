package guard_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/guard"
	"github.com/smartappmock/smartappmock/store/memstore"
)

// slowStore is a memory store whose Ping and Lookup wait for their context while stalled, as a
// Redis stopped with SIGSTOP, and that counts the calls that reached it.
type slowStore struct {
	*memstore.Store
	stalled atomic.Bool
	calls   atomic.Int64
}

func (s *slowStore) InProcess() bool { return false }

func (s *slowStore) wait(ctx context.Context) error {
	s.calls.Add(1)
	if s.stalled.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (s *slowStore) Ping(ctx context.Context) error { return s.wait(ctx) }

func (s *slowStore) Lookup(ctx context.Context, token, fallback string) (store.Lookup, error) {
	if err := s.wait(ctx); err != nil {
		return store.Lookup{}, err
	}
	return s.Store.Lookup(ctx, token, fallback)
}

func TestGuard_StalledStore_DeadlineThenBreakerThenProbe(t *testing.T) {
	inner := &slowStore{Store: memstore.New(0)}
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	g, b := guard.New(inner, guard.Options{Deadline: 50 * time.Millisecond, Probe: time.Second, Now: clock})
	ctx := context.Background()
	if err := g.Ping(ctx); err != nil {
		t.Fatalf("Ping of an answering store: %v", err)
	}

	inner.stalled.Store(true)
	start := time.Now()
	_, err := g.Lookup(ctx, "x", "")
	if took := time.Since(start); !errors.Is(err, store.ErrUnavailable) || errors.Is(err, guard.ErrNotSent) || took > time.Second {
		t.Errorf("Lookup of a stalled store = %v after %s; want ErrUnavailable (sent) at the deadline", err, took)
	}
	if open, _ := b.Open(); !open {
		t.Error("the breaker is closed after a missed deadline")
	}
	before := inner.calls.Load()
	err = g.Ping(ctx)
	if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, guard.ErrNotSent) || inner.calls.Load() != before {
		t.Errorf("Ping while the breaker is open = %v (%d calls reached the store); want ErrNotSent at once", err, inner.calls.Load()-before)
	}

	inner.stalled.Store(false)
	now = now.Add(time.Second) // a probe is due
	if err := g.Ping(ctx); err != nil {
		t.Errorf("the probe once the store answers: %v", err)
	}
	if open, _ := b.Open(); open {
		t.Error("the breaker is still open after a call was answered")
	}
}

func TestGuard_CallerGone_BreakerStaysClosed(t *testing.T) {
	inner := &slowStore{Store: memstore.New(0)}
	g, b := guard.New(inner, guard.Options{Deadline: time.Second})
	inner.stalled.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	if err := g.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Ping whose caller went away = %v, want context.Canceled", err)
	}
	if open, _ := b.Open(); open {
		t.Error("the breaker opened because a caller went away")
	}
}

func TestGuard_KeepsTheStoresInterfaces(t *testing.T) {
	mem := memstore.New(0)
	if g, _ := guard.New(mem, guard.Options{}); g != store.Store(mem) {
		t.Error("an in-process store is wrapped")
	}
	g, _ := guard.New(&slowStore{Store: mem}, guard.Options{})
	if _, ok := g.(store.Pusher); !ok {
		t.Error("the guarded store of a Pusher is no Pusher")
	}
	if _, ok := g.(store.Outbox); ok != isOutbox(mem) {
		t.Errorf("the guarded store is an Outbox: %v; the store it guards: %v", ok, isOutbox(mem))
	}
	if _, ok := g.(store.Clock); ok {
		t.Error("the guarded store of a store without a clock has one")
	}
	if guard.Unwrap(g) == g {
		t.Error("Unwrap does not give the guarded store back")
	}
}

func isOutbox(s store.Store) bool {
	_, ok := s.(store.Outbox)
	return ok
}
