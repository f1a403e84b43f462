// Package storetest is the conformance suite of store.Store: every implementation (the in-memory
// store, a shared store for several replicas) runs it to show that each primitive keeps its
// contract (Lookup, TakeCounts, TakeReply's facts, TakeFault's policies, the plans' versions),
// that its check-and-update operations are atomic, its journal and feed keep what they were
// given, and seeding and resetting are plain, one-step data operations. RunShared adds the cases
// of two handles on one store. (Two servers of the fake on one store are the sandbox's tests.)
package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/store"
)

// Run runs the suite. newStore must return an empty store whose journal keeps at least 10 entries
// per app and at most journalCap (the suite checks the cap with journalCap entries plus two).
func Run(t *testing.T, journalCap int, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rule := store.WindowRule{Duration: 48 * time.Hour, MaxReplies: 5}

	t.Run("RegisterApp_FirstWins", func(t *testing.T) {
		s := newStore(t)
		a, created, err := s.RegisterApp(ctx, store.App{ID: "a", ClientSecret: "first", Capability: true})
		if err != nil || !created || a.ClientSecret != "first" {
			t.Fatalf("first register: %+v %v %v", a, created, err)
		}
		a, created, err = s.RegisterApp(ctx, store.App{ID: "a", ClientSecret: "second"})
		if err != nil || created || a.ClientSecret != "first" {
			t.Errorf("second register: %+v %v %v, want the first app kept", a, created, err)
		}
	})
	t.Run("RegisterApp_ConcurrentOnlyOneCreates", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		created := 0
		for i := range 50 {
			wg.Go(func() {
				_, c, err := s.RegisterApp(ctx, store.App{ID: "a", ClientSecret: fmt.Sprint(i)})
				if err != nil {
					t.Error(err)
				}
				if c {
					mu.Lock()
					created++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if created != 1 {
			t.Errorf("%d registrations created the app, want 1", created)
		}
	})
	t.Run("UpdateApp", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.UpdateApp(ctx, "missing", nil, time.Hour); err == nil {
			t.Error("UpdateApp of a missing app succeeded")
		}
		s.RegisterApp(ctx, store.App{ID: "a", Capability: true})
		off := false
		s.UpdateApp(ctx, "a", &off, time.Hour)
		a, err := s.UpdateApp(ctx, "a", nil, 30*time.Minute)
		if err != nil || a.Capability || a.ClockOffset != 90*time.Minute {
			t.Errorf("app = %+v %v, want capability off and 90m offset", a, err)
		}
	})
	t.Run("Tokens", func(t *testing.T) {
		s := newStore(t)
		tok := store.Token{Value: "24.x", App: "a", Issued: t0, Expires: t0.Add(time.Hour)}
		if err := s.PutToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Token(ctx, "24.x")
		if err != nil || !ok || got != tok {
			t.Errorf("Token = %+v %v %v", got, ok, err)
		}
		if _, ok, _ := s.Token(ctx, "24.y"); ok {
			t.Error("unknown token found")
		}
	})
	t.Run("TakeReply_ExactUnderConcurrency", func(t *testing.T) {
		s := newStore(t)
		s.OpenWindow(ctx, "a", "u", t0)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 100 {
			wg.Go(func() {
				d, err := s.TakeReply(ctx, "a", "u", t0.Add(time.Minute), rule)
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
			t.Errorf("%d replies allowed, want 5", ok)
		}
	})
	t.Run("TakeReply_Rules", func(t *testing.T) {
		s := newStore(t)
		if d, _ := s.TakeReply(ctx, "a", "u", t0, rule); d.OK {
			t.Error("reply without a window allowed under require_user_message")
		}
		open := rule
		open.OpenOnFirst = true
		if d, _ := s.TakeReply(ctx, "a", "u", t0, open); !d.OK || d.Window.Replies != 1 || d.Window.UserMessage {
			t.Errorf("open on first send: %+v", d)
		}
		s.OpenWindow(ctx, "a", "v", t0)
		if d, _ := s.TakeReply(ctx, "a", "v", t0.Add(48*time.Hour), rule); d.OK {
			t.Error("reply allowed at the window's end")
		}
		if d, _ := s.TakeReply(ctx, "a", "v", t0.Add(48*time.Hour-time.Nanosecond), rule); !d.OK {
			t.Errorf("reply refused just before the window's end: %+v", d)
		}
		if d, _ := s.TakeReply(ctx, "b", "v", t0, rule); d.OK {
			t.Error("app b used app a's window")
		}
		ws, _ := s.Windows(ctx, "a")
		if len(ws) != 2 || ws[0].OpenID != "u" || ws[1].OpenID != "v" || ws[1].Replies != 1 {
			t.Errorf("windows = %+v", ws)
		}
	})
	t.Run("TakeCount_LimitAndWindow", func(t *testing.T) {
		s := newStore(t)
		var got []string
		for _, w := range []string{"d1", "d1", "d1", "d2"} {
			n, ok, err := s.TakeCount(ctx, "a", "daily", w, 2)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s:%d:%v", w, n, ok))
		}
		want := fmt.Sprint([]string{"d1:1:true", "d1:2:true", "d1:2:false", "d2:1:true"})
		if fmt.Sprint(got) != want {
			t.Errorf("counts = %v, want %v", got, want)
		}
		cs, _ := s.Counters(ctx, "a")
		if cs["daily"] != (store.Counter{Window: "d2", Count: 1}) {
			t.Errorf("counters = %+v", cs)
		}
	})
	t.Run("TakeCount_ExactUnderConcurrency", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 64 {
			wg.Go(func() {
				if _, allowed, _ := s.TakeCount(ctx, "a", "qps", "1", 10); allowed {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if ok != 10 {
			t.Errorf("%d allowed, want 10", ok)
		}
	})
	t.Run("Journal_NewestFirstFilteredCapped", func(t *testing.T) {
		s := newStore(t)
		for i := range journalCap + 2 {
			if _, err := s.Append(ctx, store.Entry{ID: fmt.Sprint("a", i), App: "a", OpenID: "u"}); err != nil {
				t.Fatal(err)
			}
		}
		s.Append(ctx, store.Entry{ID: "b0", App: "b", OpenID: "v"})
		es, _ := s.Journal(ctx, store.Query{App: "a"})
		if len(es) != journalCap || es[0].ID != fmt.Sprint("a", journalCap+1) || es[len(es)-1].ID != "a2" {
			t.Errorf("app a journal: %d entries, first %q", len(es), es[0].ID)
		}
		held, dropped, _ := s.JournalStats(ctx, "a")
		if held != journalCap || dropped != 2 {
			t.Errorf("stats: held %d dropped %d", held, dropped)
		}
		all, _ := s.Journal(ctx, store.Query{Limit: 3})
		if len(all) != 3 || all[0].ID != "b0" {
			t.Errorf("all apps newest first: %+v", all)
		}
		byUser, _ := s.Journal(ctx, store.Query{OpenID: "v"})
		if len(byUser) != 1 {
			t.Errorf("filter by open_id: %d entries", len(byUser))
		}
	})
	t.Run("Journal_ConcurrentAppendsAllKept", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 5 {
					s.Append(ctx, store.Entry{ID: fmt.Sprint(g, "-", i), App: fmt.Sprint("app", g)}) // 5 per app: under the cap
				}
			})
		}
		wg.Wait()
		es, _ := s.Journal(ctx, store.Query{})
		seen := map[uint64]bool{}
		for _, e := range es {
			seen[e.Seq] = true
		}
		if len(es) != 40 || len(seen) != 40 {
			t.Errorf("%d entries with %d distinct seqs, want 40", len(es), len(seen))
		}
	})
	runPlans(t, newStore)
	runPrimitives(t, newStore)
	runJournal(t, newStore)
	runSeedReset(t, newStore)
	runRecords(t, newStore)
	runReconcile(t, newStore)
	runAppPage(t, newStore)
}
