package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/store"
)

// TestSendBatcher_ConcurrentSendsEachDecidedOnce sends from many goroutines at once (so the
// batcher puts several in one pipeline) and checks that every send was decided once: distinct
// sequence numbers, replies counted 1..n in one window, every entry journaled once.
func TestSendBatcher_ConcurrentSendsEachDecidedOnce(t *testing.T) {
	ctx := context.Background()
	for _, tc := range bothRedis() {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.open(t)
			if err := s.Seed(ctx, store.Seed{At: time.Now(), Apps: []store.App{{ID: "a", Source: "config", Capability: true}},
				Tokens: []store.Token{{Value: "tok-a", App: "a"}}}); err != nil {
				t.Fatal(err)
			}
			const n = 120
			seqs := make([]uint64, n)
			reasons := make([]string, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					in := sendInput(time.Now())
					in.Window.MaxReplies = n
					in.Limits.Default.QPS, in.Limits.Default.Daily = 0, 0
					in.Entry.ID = "req-" + strconv.Itoa(i)
					r, err := s.Send(ctx, in)
					if err != nil {
						t.Error(err)
						return
					}
					seqs[i], reasons[i] = r.Seq, r.Reason
				})
			}
			wg.Wait()
			seen := map[uint64]bool{}
			replies := map[string]bool{}
			for i := range n {
				if seqs[i] == 0 || seen[seqs[i]] {
					t.Errorf("send %d: seq %d (zero or repeated)", i, seqs[i])
				}
				seen[seqs[i]] = true
				replies[reasons[i]] = true
			}
			for r := 1; r <= n; r++ {
				if want := "window: reply " + strconv.Itoa(r) + " of " + strconv.Itoa(n); !replies[want] {
					t.Errorf("no send answered %q", want)
				}
			}
			es, err := s.Journal(ctx, store.Query{App: "a"})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != n {
				t.Errorf("journal holds %d entries, want %d", len(es), n)
			}
		})
	}
}

// TestSendBatcher_EndedContextRunsNothing: a send whose context has ended answers the context's
// error and decides nothing; a closed store answers an error instead of waiting.
func TestSendBatcher_EndedContextRunsNothing(t *testing.T) {
	s, _ := miniT(t, Options{})
	ctx := context.Background()
	if err := s.Seed(ctx, store.Seed{At: time.Now(), Apps: []store.App{{ID: "a", Source: "config", Capability: true}},
		Tokens: []store.Token{{Value: "tok-a", App: "a"}}}); err != nil {
		t.Fatal(err)
	}
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Send(ended, sendInput(time.Now())); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with an ended context: %v, want context.Canceled", err)
	}
	if es, err := s.Journal(ctx, store.Query{}); err != nil || len(es) != 0 {
		t.Errorf("journal after the ended send: %d entries (%v), want none", len(es), err)
	}
	s.Close()
	if _, err := s.Send(ctx, sendInput(time.Now())); err == nil {
		t.Error("Send on a closed store: no error")
	}
}

// TestSendBatcher_AFailedSendIsItsOwn: sends of app b fail in the script (its window key holds a
// string, so Redis answers WRONGTYPE) while sends of app a run beside them, often in the same
// script run: each b send answers the error, each a send is decided and journaled as if alone.
func TestSendBatcher_AFailedSendIsItsOwn(t *testing.T) {
	ctx := context.Background()
	for _, tc := range bothRedis() {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.open(t)
			if err := s.Seed(ctx, store.Seed{At: time.Now(),
				Apps:   []store.App{{ID: "a", Source: "config", Capability: true}, {ID: "b", Source: "config", Capability: true}},
				Tokens: []store.Token{{Value: "tok-a", App: "a"}, {Value: "tok-b", App: "b"}}}); err != nil {
				t.Fatal(err)
			}
			if err := s.rdb.Set(ctx, s.akey("b", "win"), "not a hash", 0).Err(); err != nil {
				t.Fatal(err)
			}
			const n = 40
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					in := sendInput(time.Now())
					in.Window.MaxReplies = n
					in.Limits.Default.QPS, in.Limits.Default.Daily = 0, 0
					if i%2 == 1 {
						in.Token, in.Match.Token = "tok-b", "tok-b"
					}
					_, errs[i] = s.Send(ctx, in)
				})
			}
			wg.Wait()
			for i, err := range errs {
				if i%2 == 0 && err != nil {
					t.Errorf("send %d of app a: %v, want none", i, err)
				}
				if i%2 == 1 && (err == nil || !strings.Contains(err.Error(), "WRONGTYPE")) {
					t.Errorf("send %d of app b: %v, want WRONGTYPE", i, err)
				}
			}
			es, err := s.Journal(ctx, store.Query{})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != n/2 {
				t.Errorf("journal holds %d entries, want %d (app a's)", len(es), n/2)
			}
			for _, e := range es {
				if e.App != "a" || e.Code != 0 {
					t.Errorf("journaled %s: app %q code %d, want app a code 0", e.ID, e.App, e.Code)
				}
			}
		})
	}
}
