package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/store"
)

// RunShared runs the cases of two handles on one store, as two replicas have them: newPair
// returns two stores that share their state (for the in-memory store, the same store twice; for
// a shared store, two connections with the same settings). Every decision must be counted once
// across the two, and what one writes must be in force on the other at its next call.
func RunShared(t *testing.T, newPair func(t *testing.T) (store.Store, store.Store)) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rule := store.WindowRule{Duration: 48 * time.Hour, MaxReplies: 5}

	t.Run("Shared_WindowCountedOnceAcrossStores", func(t *testing.T) {
		a, b := newPair(t)
		if err := a.OpenWindow(ctx, "app", "u", t0); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := range 60 {
			s := []store.Store{a, b}[i%2]
			wg.Go(func() {
				d, err := s.TakeReply(ctx, "app", "u", t0.Add(time.Minute), rule)
				if err != nil {
					t.Error(err)
				}
				if d.OK {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if ok != 5 {
			t.Errorf("%d replies allowed across two stores, want 5", ok)
		}
	})
	t.Run("Shared_SeedOfTheSecondNeverResets", func(t *testing.T) {
		a, b := newPair(t)
		seed := store.Seed{At: t0, Apps: []store.App{{ID: "app", Source: "config", Capability: true}}, Windows: []store.SeedWindow{{App: "app", OpenID: "u"}}}
		if err := a.Seed(ctx, seed); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			a.TakeReply(ctx, "app", "u", t0.Add(time.Minute), rule)
		}
		later := seed
		later.At = t0.Add(time.Hour)
		if err := b.Seed(ctx, later); err != nil {
			t.Fatal(err)
		}
		if d, _ := b.TakeReply(ctx, "app", "u", t0.Add(2*time.Hour), rule); d.OK {
			t.Errorf("a sixth reply passed on the second store after its Seed: %+v", d)
		}
	})
	t.Run("Shared_RulesPutThroughOneInForceOnTheOther", func(t *testing.T) {
		a, b := newPair(t)
		put, err := a.PutRules(ctx, []byte(`[{"name":"r","times":1}]`))
		if err != nil {
			t.Fatal(err)
		}
		got, err := b.Rules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(put, got); diff != "" {
			t.Errorf("Rules() on the other store mismatch (-want +got):\n%s", diff)
		}
		period := rulePeriod(got.Version)
		_, first, _ := a.TakeCount(ctx, store.NoApp, ruleCounter(0), period, 1)
		_, second, _ := b.TakeCount(ctx, store.NoApp, ruleCounter(0), period, 1)
		if !first || second {
			t.Errorf("uses of a times:1 rule: %v then %v, want one use across the stores", first, second)
		}
	})
	t.Run("Shared_FaultStepsAndVersion", func(t *testing.T) {
		a, b := newPair(t)
		f, err := a.PutFaults(ctx, []byte(`[{"sequence":["http_503","reset"]}]`))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := b.Faults(ctx); got.Version != f.Version {
			t.Fatalf("the other store reads fault version %d, want %d", got.Version, f.Version)
		}
		var got []string
		for i := range 4 {
			s := []store.Store{a, b}[i%2]
			tk, err := s.TakeFault(ctx, f.Version, store.PlanID{Index: 0}, store.FaultPolicy{Steps: 2})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%d:%v:%d", tk.Matched, tk.Injected, tk.Step))
		}
		if diff := cmp.Diff([]string{"1:true:0", "2:true:1", "3:false:0", "4:false:0"}, got); diff != "" {
			t.Errorf("takes alternating between stores (-want +got):\n%s", diff)
		}
		r, _ := b.RestartFaults(ctx)
		if tk, _ := a.TakeFault(ctx, f.Version, store.PlanID{Index: 0}, store.FaultPolicy{Steps: 2}); tk.Matched != 0 {
			t.Errorf("a take on the version the other store restarted counted: %+v", tk)
		}
		if tk, _ := a.TakeFault(ctx, r.Version, store.PlanID{Index: 0}, store.FaultPolicy{Steps: 2}); !tk.Injected || tk.Step != 0 {
			t.Errorf("first take after the other store restarted the plans: %+v", tk)
		}
	})
	t.Run("Shared_FeedDeliversTheOthersEntries", func(t *testing.T) {
		a, b := newPair(t)
		head, _ := b.Head(ctx)
		got := make(chan []store.Entry, 1)
		go func() {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			es, err := b.Feed(cctx, head, 10)
			if err != nil {
				t.Error(err)
			}
			got <- es
		}()
		seq, err := a.Append(ctx, store.Entry{ID: "from-a", App: "app"})
		if err != nil {
			t.Fatal(err)
		}
		es := <-got
		if len(es) != 1 || es[0].ID != "from-a" || es[0].Seq != seq {
			t.Errorf("the other store's feed got %+v, want the entry %d", es, seq)
		}
		if j, _ := b.Journal(ctx, store.Query{App: "app"}); len(j) != 1 || j[0].Seq != seq {
			t.Errorf("the other store's journal: %+v", j)
		}
	})
	t.Run("Shared_ResetThroughOneSeenByTheOther", func(t *testing.T) {
		a, b := newPair(t)
		seed := store.Seed{At: t0, Apps: []store.App{{ID: "app", Source: "config", Capability: true}}}
		a.Seed(ctx, seed)
		b.RegisterApp(ctx, store.App{ID: "sandbox", Source: "sandbox-client"})
		b.Append(ctx, store.Entry{App: "sandbox"})
		if err := a.Reset(ctx, "", seed); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := b.App(ctx, "sandbox"); ok {
			t.Error("an app registered through the other store survived the reset")
		}
		if es, _ := b.Journal(ctx, store.Query{}); len(es) != 0 {
			t.Errorf("the other store's journal after reset: %d entries", len(es))
		}
	})
}
