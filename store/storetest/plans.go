package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/store"
)

// runPlans checks rules and fault plans: versions, shared counts and the fault decision.
func runPlans(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	t.Run("PutRules_NewVersionStartsCountsAtZero", func(t *testing.T) {
		s := newStore(t)
		r1, err := s.PutRules(ctx, []byte(`[{"name":"once","times":1}]`))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.TakeCount(ctx, store.NoApp, ruleCounter(0), rulePeriod(r1.Version), 1); !ok {
			t.Fatal("first use refused")
		}
		if _, ok, _ := s.TakeCount(ctx, store.NoApp, ruleCounter(0), rulePeriod(r1.Version), 1); ok {
			t.Error("second use of a times:1 rule allowed")
		}
		r2, _ := s.PutRules(ctx, r1.Rules)
		if r2.Version == r1.Version {
			t.Fatalf("PutRules kept version %d", r2.Version)
		}
		if _, ok, _ := s.TakeCount(ctx, store.NoApp, ruleCounter(0), rulePeriod(r2.Version), 1); !ok {
			t.Error("a replaced set did not start its count at zero")
		}
		got, _ := s.Rules(ctx)
		if diff := cmp.Diff(r2, got); diff != "" {
			t.Errorf("Rules() mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("TakeFault_SkipTimesAndVersion", func(t *testing.T) {
		s := newStore(t)
		f, err := s.PutFaults(ctx, []byte(`[{"kind":"http_503","skip":1,"times":2}]`))
		if err != nil {
			t.Fatal(err)
		}
		p := store.FaultPolicy{Skip: 1, Times: 2}
		var got []string
		for range 5 {
			tk, err := s.TakeFault(ctx, f.Version, store.PlanID{Index: 0}, p)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%d:%v:%d", tk.Matched, tk.Injected, tk.Step))
		}
		want := []string{"1:false:0", "2:true:0", "3:true:1", "4:false:0", "5:false:0"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("takes (-want +got):\n%s", diff)
		}
		counts, _ := s.FaultCounts(ctx, f.Version)
		if counts[store.PlanID{Index: 0}] != (store.FaultCount{Matched: 5, Injected: 2}) {
			t.Errorf("counts = %+v", counts)
		}
		r, _ := s.RestartFaults(ctx)
		if r.Version == f.Version || string(r.Global) != string(f.Global) {
			t.Fatalf("restart: %+v", r)
		}
		if tk, _ := s.TakeFault(ctx, f.Version, store.PlanID{Index: 0}, p); tk.Matched != 0 {
			t.Errorf("a take on a stale version counted: %+v", tk)
		}
		if tk, _ := s.TakeFault(ctx, r.Version, store.PlanID{Index: 0}, p); tk.Matched != 1 || tk.Injected {
			t.Errorf("after restart: %+v, want the skip again", tk)
		}
	})
	t.Run("TakeFault_SequenceExactUnderConcurrency", func(t *testing.T) {
		s := newStore(t)
		f, _ := s.PutFaults(ctx, []byte(`[{"sequence":["http_503","none","reset"]}]`))
		var mu sync.Mutex
		steps := map[int]int{}
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				tk, err := s.TakeFault(ctx, f.Version, store.PlanID{App: "a", Index: 2}, store.FaultPolicy{Steps: 3})
				if err != nil {
					t.Error(err)
				}
				if tk.Injected {
					mu.Lock()
					steps[tk.Step]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if diff := cmp.Diff(map[int]int{0: 1, 1: 1, 2: 1}, steps); diff != "" {
			t.Errorf("each step once (-want +got):\n%s", diff)
		}
	})
	t.Run("TakeFault_ProbabilityIsTheSharedDraw", func(t *testing.T) {
		s := newStore(t)
		f, _ := s.PutFaults(ctx, []byte(`[{"kind":"reset","probability":0.3,"seed":42}]`))
		p := store.FaultPolicy{Probability: 0.3, Seed: 42}
		var got, want []bool
		for n := 1; n <= 200; n++ {
			tk, _ := s.TakeFault(ctx, f.Version, store.PlanID{}, p)
			got = append(got, tk.Injected)
			want = append(want, store.Draw(42, uint64(n)) < 0.3)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("injections are not the draws of the seed (-want +got):\n%s", diff)
		}
	})
}

// runJournal checks cursor paging and the live feed.
func runJournal(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	t.Run("Journal_CursorPaging", func(t *testing.T) {
		s := newStore(t)
		for i := range 9 {
			app := []string{"a", "b", "c"}[i%3]
			if _, err := s.Append(ctx, store.Entry{ID: fmt.Sprint(i), App: app}); err != nil {
				t.Fatal(err)
			}
		}
		var pages [][]string
		before := uint64(0)
		for {
			es, err := s.Journal(ctx, store.Query{Before: before, Limit: 4})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) == 0 {
				break
			}
			var ids []string
			for _, e := range es {
				ids = append(ids, e.ID)
			}
			pages = append(pages, ids)
			before = es[len(es)-1].Seq
		}
		want := [][]string{{"8", "7", "6", "5"}, {"4", "3", "2", "1"}, {"0"}}
		if diff := cmp.Diff(want, pages); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
		head, _ := s.Head(ctx)
		newer, _ := s.Journal(ctx, store.Query{After: head - 2, App: "c"})
		if len(newer) != 1 || newer[0].ID != "8" {
			t.Errorf("After cursor with a filter: %+v", newer)
		}
	})
	t.Run("Journal_OutcomeFilterByStore", func(t *testing.T) {
		s := newStore(t)
		s.Append(ctx, store.Entry{ID: "ok", App: "a", Layer: "business", Code: 0})
		s.Append(ctx, store.Entry{ID: "3001", App: "a", Layer: "business", Code: 3001})
		s.Append(ctx, store.Entry{ID: "110", App: "a", Layer: "gateway", Code: 110})
		s.Append(ctx, store.Entry{ID: "oauth", App: "a", Layer: "oauth", Code: 400, OAuthError: "invalid_client"})
		for _, tc := range []struct{ outcome, want string }{
			{"ok", "ok"}, {"3001", "3001"}, {"business 3001", "3001"}, {"gateway 110", "110"},
			{"invalid_client", "oauth"}, {"oauth invalid_client", "oauth"}, {"400", ""},
		} {
			es, _ := s.Journal(ctx, store.Query{Outcome: tc.outcome})
			var got string
			for _, e := range es {
				got += e.ID
			}
			if got != tc.want {
				t.Errorf("outcome %q: got %q, want %q", tc.outcome, got, tc.want)
			}
		}
	})
	t.Run("Feed_WaitsResumesAndOrders", func(t *testing.T) {
		s := newStore(t)
		head, _ := s.Head(ctx)
		got := make(chan []store.Entry, 1)
		go func() {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			es, err := s.Feed(cctx, head, 10)
			if err != nil {
				t.Error(err)
			}
			got <- es
		}()
		time.Sleep(20 * time.Millisecond) // let the reader wait (it must not need this to be correct)
		s.Append(ctx, store.Entry{ID: "first", App: "a"})
		es := <-got
		if len(es) != 1 || es[0].ID != "first" {
			t.Fatalf("a waiting reader got %+v", es)
		}
		for i := range 5 {
			s.Append(ctx, store.Entry{ID: fmt.Sprint(i), App: []string{"x", "y"}[i%2]})
		}
		more, err := s.Feed(ctx, es[0].Seq, 3)
		if err != nil {
			t.Fatal(err)
		}
		rest, _ := s.Feed(ctx, more[len(more)-1].Seq, 10)
		var ids []string
		prev := es[0].Seq
		for _, e := range append(more, rest...) {
			if e.Seq != prev+1 {
				t.Errorf("seq %d after %d: a gap", e.Seq, prev)
			}
			prev = e.Seq
			ids = append(ids, e.ID)
		}
		if diff := cmp.Diff([]string{"0", "1", "2", "3", "4"}, ids); diff != "" {
			t.Errorf("resumed feed (-want +got):\n%s", diff)
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		defer cancel()
		if _, err := s.Feed(cctx, prev, 10); err == nil {
			t.Error("Feed with nothing new returned without waiting for ctx")
		}
	})
	t.Run("Sessions", func(t *testing.T) {
		s := newStore(t)
		now := time.Now()
		if err := s.PutSession(ctx, "sid", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.Session(ctx, "sid", now); !ok {
			t.Error("a fresh session is not held")
		}
		if ok, _ := s.Session(ctx, "sid", now.Add(2*time.Hour)); ok {
			t.Error("an expired session is held")
		}
		s.DeleteSession(ctx, "sid")
		if ok, _ := s.Session(ctx, "sid", now); ok {
			t.Error("a deleted session is held")
		}
		if err := s.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})
}

// runSeedReset checks that seeding is idempotent and reset is one step back to the seed.
func runSeedReset(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rule := store.WindowRule{Duration: 48 * time.Hour, MaxReplies: 5}
	seed := store.Seed{
		At:        t0,
		Apps:      []store.App{{ID: "a", ClientID: "ka", Source: "config", Capability: true}, {ID: "b", Source: "config", Capability: false}},
		Tokens:    []store.Token{{Value: "static-a", App: "a", Issued: t0}},
		Windows:   []store.SeedWindow{{App: "a", OpenID: "u"}},
		Rules:     []byte(`[{"name":"r"}]`),
		Faults:    []byte(`[{"kind":"http_503"}]`),
		AppFaults: map[string][]byte{"a": []byte(`[{"kind":"reset"}]`)},
	}
	t.Run("Seed_NeverResetsWhatWasCounted", func(t *testing.T) {
		s := newStore(t)
		if err := s.Seed(ctx, seed); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			s.TakeReply(ctx, "a", "u", t0.Add(time.Minute), rule)
		}
		off := true
		s.UpdateApp(ctx, "b", &off, time.Hour)
		s.PutRules(ctx, nil)
		later := seed
		later.At = t0.Add(time.Hour) // a replica that starts later
		if err := s.Seed(ctx, later); err != nil {
			t.Fatal(err)
		}
		if d, _ := s.TakeReply(ctx, "a", "u", t0.Add(2*time.Minute), rule); d.OK {
			t.Errorf("a sixth reply passed after a second Seed: %+v", d)
		}
		b, _, _ := s.App(ctx, "b")
		if !b.Capability || b.ClockOffset != time.Hour {
			t.Errorf("a second Seed changed app b: %+v", b)
		}
		if r, _ := s.Rules(ctx); len(r.Rules) != 0 {
			t.Errorf("a second Seed replaced rules that were put: %+v", r)
		}
		if tok, ok, _ := s.Token(ctx, "static-a"); !ok || tok.App != "a" {
			t.Errorf("seeded token: %+v %v", tok, ok)
		}
		f, _ := s.Faults(ctx)
		if diff := cmp.Diff(seed.AppFaults, f.Apps); diff != "" || string(f.Global) != string(seed.Faults) {
			t.Errorf("seeded faults: %+v", f)
		}
	})
	t.Run("Reset_AllIsOneStepToTheSeed", func(t *testing.T) {
		s := newStore(t)
		s.Seed(ctx, seed)
		s.RegisterApp(ctx, store.App{ID: "sandbox", Source: "sandbox-client", Capability: true})
		s.PutToken(ctx, store.Token{Value: "24.issued", App: "a", Issued: t0, Expires: t0.Add(time.Hour)})
		for range 5 {
			s.TakeReply(ctx, "a", "u", t0, rule)
		}
		s.UpdateApp(ctx, "a", nil, time.Hour)
		s.Append(ctx, store.Entry{App: "a"})
		s.PutRules(ctx, nil)
		f0, _ := s.PutFaults(ctx, nil)
		head, _ := s.Head(ctx)
		at := t0.Add(3 * time.Hour)
		reset := seed
		reset.At = at
		if err := s.Reset(ctx, "", reset); err != nil {
			t.Fatal(err)
		}
		apps, _ := s.Apps(ctx)
		var ids []string
		for _, a := range apps {
			ids = append(ids, a.ID)
		}
		if diff := cmp.Diff([]string{"a", "b"}, ids); diff != "" {
			t.Errorf("apps after reset (-want +got):\n%s", diff)
		}
		if _, ok, _ := s.Token(ctx, "24.issued"); ok {
			t.Error("an issued token survived reset")
		}
		if _, ok, _ := s.Token(ctx, "static-a"); !ok {
			t.Error("a configured token is gone after reset")
		}
		ws, _ := s.Windows(ctx, "a")
		if len(ws) != 1 || ws[0].Replies != 0 || !ws[0].OpenedAt.Equal(at) {
			t.Errorf("windows after reset: %+v", ws)
		}
		a, _, _ := s.App(ctx, "a")
		if a.ClockOffset != 0 {
			t.Errorf("clock after reset: %v", a.ClockOffset)
		}
		if es, _ := s.Journal(ctx, store.Query{}); len(es) != 0 {
			t.Errorf("journal after reset: %d entries", len(es))
		}
		if r, _ := s.Rules(ctx); string(r.Rules) != string(seed.Rules) {
			t.Errorf("rules after reset: %+v, want the seed's", r)
		}
		f, _ := s.Faults(ctx)
		if string(f.Global) != string(seed.Faults) || f.Version == f0.Version {
			t.Errorf("faults after reset: %+v", f)
		}
		seq, _ := s.Append(ctx, store.Entry{App: "a"})
		if seq <= head {
			t.Errorf("seq %d after reset, want above %d: the feed's numbers never go back", seq, head)
		}
	})
	t.Run("DeleteApp_ForgetsASandboxAppAndItsTokens", func(t *testing.T) {
		s := newStore(t)
		s.Seed(ctx, seed)
		s.RegisterApp(ctx, store.App{ID: "sbx", ClientID: "sbx", Source: "sandbox-client", Capability: true})
		s.PutToken(ctx, store.Token{Value: "24.sbx", App: "sbx", Issued: t0, Expires: t0.Add(time.Hour)})
		s.PutToken(ctx, store.Token{Value: "24.a", App: "a", Issued: t0, Expires: t0.Add(time.Hour)})
		s.TakeReply(ctx, "sbx", "u", t0, store.WindowRule{Duration: time.Hour, MaxReplies: 5, OpenOnFirst: true})
		s.Append(ctx, store.Entry{App: "sbx"})
		if err := s.DeleteApp(ctx, "sbx"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.App(ctx, "sbx"); ok {
			t.Error("the deleted app is still held")
		}
		if _, ok, _ := s.Token(ctx, "24.sbx"); ok {
			t.Error("the deleted app's token still works")
		}
		if _, ok, _ := s.Token(ctx, "24.a"); !ok {
			t.Error("another app's token went with it")
		}
		if es, _ := s.Journal(ctx, store.Query{App: "sbx"}); len(es) != 0 {
			t.Errorf("the deleted app's journal holds %d entries", len(es))
		}
		if apps, _ := s.Apps(ctx); len(apps) != 2 {
			t.Errorf("%d apps after the delete, want the 2 configured", len(apps))
		}
		if err := s.DeleteApp(ctx, "a"); !errors.Is(err, store.ErrConfiguredApp) {
			t.Errorf("deleting a configured app: %v, want ErrConfiguredApp", err)
		}
		if err := s.DeleteApp(ctx, "sbx"); !errors.Is(err, store.ErrUnknownApp) {
			t.Errorf("deleting it twice: %v, want ErrUnknownApp", err)
		}
	})
	t.Run("Reset_OneAppKeepsTheOthers", func(t *testing.T) {
		s := newStore(t)
		s.Seed(ctx, seed)
		for _, app := range []string{"a", "b"} {
			s.TakeReply(ctx, app, "u", t0, store.WindowRule{Duration: time.Hour, MaxReplies: 5, OpenOnFirst: true})
			s.TakeCount(ctx, app, "daily", "d", 0)
			s.UpdateApp(ctx, app, nil, time.Hour)
			s.Append(ctx, store.Entry{App: app})
		}
		reset := seed
		reset.At = t0.Add(time.Hour)
		if err := s.Reset(ctx, "a", reset); err != nil {
			t.Fatal(err)
		}
		a, _, _ := s.App(ctx, "a")
		b, _, _ := s.App(ctx, "b")
		wa, _ := s.Windows(ctx, "a")
		ca, _ := s.Counters(ctx, "a")
		cb, _ := s.Counters(ctx, "b")
		if a.ClockOffset != 0 || b.ClockOffset != time.Hour || len(ca) != 0 || len(cb) != 1 {
			t.Errorf("after reset of a: a %+v b %+v counters a %v b %v", a, b, ca, cb)
		}
		if len(wa) != 1 || wa[0].Replies != 0 || !wa[0].OpenedAt.Equal(reset.At) {
			t.Errorf("a's configured window after reset: %+v", wa)
		}
		if held, _, _ := s.JournalStats(ctx, "b"); held != 1 {
			t.Errorf("b's journal: %d entries", held)
		}
		if err := s.Reset(ctx, "missing", seed); err == nil {
			t.Error("reset of an unknown app succeeded")
		}
	})
}
