package redisstore

import (
	"context"
	"errors"
	"strconv"
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
