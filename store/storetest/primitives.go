package storetest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/smartappmock/smartappmock/store"
)

// ruleCounter and rulePeriod name a rule's use counter as the API core does: a store.NoApp
// counter per rule, whose period is the rule set's version.
func ruleCounter(i int) string         { return "rule:" + strconv.Itoa(i) }
func rulePeriod(version uint64) string { return "v" + strconv.FormatUint(version, 10) }

// sameTimes compares times by instant: a store may hand a time back in another location.
var sameTimes = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

// runPrimitives checks the contract of the primitives a send is decided with: Lookup, TakeCounts
// and TakeReply's facts.
func runPrimitives(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	// A store's clock (Lookup.Now) is its own: the cases below do not compare it.
	lookupOpts := cmp.Options{sameTimes, cmpopts.IgnoreFields(store.Lookup{}, "Now")}

	t.Run("Lookup_TokenAppOrFallback", func(t *testing.T) {
		s := newStore(t)
		a := store.App{ID: "a", ClientID: "ka", ClientSecret: "sa", Source: "config", Capability: true, ClockOffset: time.Minute}
		b := store.App{ID: "b", Source: "sandbox-token", Capability: true}
		for _, app := range []store.App{a, b} {
			if _, _, err := s.RegisterApp(ctx, app); err != nil {
				t.Fatal(err)
			}
		}
		toks := []store.Token{
			{Value: "24.a", App: "a", Issued: t0, Expires: t0.Add(time.Hour)},
			{Value: "24.r", App: "a", Refresh: true, Issued: t0, Expires: t0.Add(time.Hour)},
			{Value: "24.gone", App: "gone", Issued: t0, Expires: t0.Add(time.Hour)},
			{Value: "24.noapp", App: store.NoApp, Issued: t0},
			{Value: "static", App: "b", Issued: t0},
		}
		for _, tok := range toks {
			if err := s.PutToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name            string
			token, fallback string
			want            store.Lookup
		}{
			{"IssuedToken", "24.a", "", store.Lookup{Token: toks[0], TokenFound: true, App: a, AppFound: true}},
			{"TheTokensAppWinsOverTheFallback", "24.a", "b", store.Lookup{Token: toks[0], TokenFound: true, App: a, AppFound: true}},
			{"RefreshTokenWithItsApp", "24.r", "", store.Lookup{Token: toks[1], TokenFound: true, App: a, AppFound: true}},
			{"ConfiguredToken", "static", "", store.Lookup{Token: toks[4], TokenFound: true, App: b, AppFound: true}},
			{"TokenOfAGoneApp", "24.gone", "b", store.Lookup{Token: toks[2], TokenFound: true}},
			{"AppLessTokenIgnoresTheFallback", "24.noapp", "a", store.Lookup{Token: toks[3], TokenFound: true}},
			{"UnknownTokenFallback", "24.unknown", "b", store.Lookup{App: b, AppFound: true}},
			{"UnknownTokenUnknownFallback", "24.unknown", "c", store.Lookup{}},
			{"UnknownTokenNoFallback", "24.unknown", "", store.Lookup{}},
			{"NoTokenFallback", "", "a", store.Lookup{App: a, AppFound: true}},
			{"NothingAtAll", "", "", store.Lookup{}},
		} {
			got, err := s.Lookup(ctx, tc.token, tc.fallback)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if diff := cmp.Diff(tc.want, got, lookupOpts); diff != "" {
				t.Errorf("%s: Lookup(%q, %q) mismatch (-want +got):\n%s", tc.name, tc.token, tc.fallback, diff)
			}
		}
		if _, found, _ := s.App(ctx, "c"); found {
			t.Error("Lookup of a fallback app created it")
		}
	})
	t.Run("Lookup_VersionsMoveWithEveryChange", func(t *testing.T) {
		s := newStore(t)
		versions := func() (uint64, uint64) {
			t.Helper()
			lk, err := s.Lookup(ctx, "", "")
			if err != nil {
				t.Fatal(err)
			}
			return lk.Rules, lk.Faults
		}
		if r, f := versions(); r != 0 || f != 0 {
			t.Errorf("an empty store's versions: rules %d faults %d, want 0 0", r, f)
		}
		if err := s.Seed(ctx, store.Seed{At: t0, Rules: []byte("r0"), Faults: []byte("f0")}); err != nil {
			t.Fatal(err)
		}
		r0, f0 := versions()
		rs, _ := s.Rules(ctx)
		fs, _ := s.Faults(ctx)
		if r0 == 0 || f0 == 0 || r0 != rs.Version || f0 != fs.Version {
			t.Errorf("after Seed: Lookup has rules %d faults %d, Rules %d Faults %d", r0, f0, rs.Version, fs.Version)
		}
		put, _ := s.PutRules(ctx, []byte("r1"))
		if r, f := versions(); r != put.Version || r == r0 || f != f0 {
			t.Errorf("after PutRules: rules %d faults %d, want %d %d", r, f, put.Version, f0)
		}
		pf, _ := s.PutFaults(ctx, []byte("f1"))
		if r, f := versions(); r != put.Version || f != pf.Version || f == f0 {
			t.Errorf("after PutFaults: rules %d faults %d, want %d %d", r, f, put.Version, pf.Version)
		}
		rf, _ := s.RestartFaults(ctx)
		if r, f := versions(); r != put.Version || f != rf.Version || f == pf.Version {
			t.Errorf("after RestartFaults: rules %d faults %d, want %d %d", r, f, put.Version, rf.Version)
		}
		if string(rf.Global) != "f1" {
			t.Errorf("RestartFaults changed the plans: %q", rf.Global)
		}
		if err := s.Seed(ctx, store.Seed{At: t0, Rules: []byte("r2"), Faults: []byte("f2")}); err != nil {
			t.Fatal(err)
		}
		if r, f := versions(); r != put.Version || f != rf.Version {
			t.Errorf("a second Seed moved the versions: rules %d faults %d", r, f)
		}
	})
	t.Run("Plans_KeptAsGiven", func(t *testing.T) {
		s := newStore(t)
		seed := store.Seed{At: t0, Rules: []byte(`[{"any":"encoding"}]`), Faults: []byte("\x00binary\xff"),
			AppFaults: map[string][]byte{"a": []byte("plans of a"), "b": []byte("{}")}}
		if err := s.Seed(ctx, seed); err != nil {
			t.Fatal(err)
		}
		rs, _ := s.Rules(ctx)
		fs, _ := s.Faults(ctx)
		want := store.FaultSet{Version: fs.Version, Global: seed.Faults, Apps: seed.AppFaults}
		if diff := cmp.Diff(want, fs); diff != "" || string(rs.Rules) != string(seed.Rules) {
			t.Errorf("seeded plans: rules %q; faults mismatch (-want +got):\n%s", rs.Rules, diff)
		}
		put, _ := s.PutFaults(ctx, []byte("new top-level"))
		got, _ := s.Faults(ctx)
		want = store.FaultSet{Version: put.Version, Global: []byte("new top-level"), Apps: seed.AppFaults}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("PutFaults keeps the apps' plans (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(put, got); diff != "" {
			t.Errorf("PutFaults' answer and Faults() differ (-put +faults):\n%s", diff)
		}
	})
	t.Run("TakeCounts_StopsAtTheFirstRefusedLimit", func(t *testing.T) {
		s := newStore(t)
		takes := []store.Take{{App: "a", Name: "qps", Period: "100", Limit: 2}, {App: "a", Name: "daily", Period: "d1", Limit: 10}}
		var got []store.TakesResult
		for range 3 {
			r, err := s.TakeCounts(ctx, takes)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		want := []store.TakesResult{{Ended: -1}, {Ended: -1}, {Ended: 0, Count: 2}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
		cs, _ := s.Counters(ctx, "a")
		want2 := map[string]store.Counter{"qps": {Window: "100", Count: 2}, "daily": {Window: "d1", Count: 2}}
		if diff := cmp.Diff(want2, cs); diff != "" {
			t.Errorf("counters: the take after a refused one is not made (-want +got):\n%s", diff)
		}
		takes[0].Period = "101" // a new second starts again at zero
		if r, _ := s.TakeCounts(ctx, takes); r.Ended != -1 {
			t.Errorf("a new period: %+v, want no end", r)
		}
		takes[1].Limit = 3
		if r, _ := s.TakeCounts(ctx, takes); r != (store.TakesResult{Ended: 1, Count: 3}) {
			t.Errorf("the second take's limit: %+v, want it to end with count 3", r)
		}
	})
	t.Run("TakeCounts_EndsWhenCountedFirstUseLeftAnswers", func(t *testing.T) {
		s := newStore(t)
		rules := func(limits ...int) []store.Take {
			var ts []store.Take
			for i, l := range limits {
				ts = append(ts, store.Take{App: store.NoApp, Name: ruleCounter(i), Period: rulePeriod(1), Limit: l, EndsWhenCounted: true})
			}
			return append(ts, store.Take{App: "a", Name: "qps", Period: "1", Limit: 1})
		}
		var got []store.TakesResult
		for range 4 {
			r, err := s.TakeCounts(ctx, rules(1, 2))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		// Rule 0 once, rule 1 twice, then the limit (qps 1) takes its one use, then refuses.
		want := []store.TakesResult{{Ended: 0, Count: 1}, {Ended: 1, Count: 1}, {Ended: 1, Count: 2}, {Ended: -1}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
		if r, _ := s.TakeCounts(ctx, rules(1, 2)); r != (store.TakesResult{Ended: 2, Count: 1}) {
			t.Errorf("rules used up, limit used up: %+v, want the limit to end it", r)
		}
		noApp, _ := s.Counters(ctx, store.NoApp)
		if noApp[ruleCounter(0)].Count != 1 || noApp[ruleCounter(1)].Count != 2 {
			t.Errorf("rule counters: %+v", noApp)
		}
	})
	t.Run("TakeCounts_LimitZeroIsNoLimit", func(t *testing.T) {
		s := newStore(t)
		for i := 1; i <= 3; i++ {
			r, _ := s.TakeCounts(ctx, []store.Take{{App: "a", Name: "n", Period: "p"}})
			if r.Ended != -1 {
				t.Errorf("take %d of an unlimited counter ended the sequence: %+v", i, r)
			}
			r, _ = s.TakeCounts(ctx, []store.Take{{App: "a", Name: "m", Period: "p", EndsWhenCounted: true}, {App: "a", Name: "never", Period: "p"}})
			if r != (store.TakesResult{Ended: 0, Count: i}) {
				t.Errorf("take %d of an unlimited rule: %+v, want it to end at once with count %d", i, r, i)
			}
		}
		cs, _ := s.Counters(ctx, "a")
		if _, taken := cs["never"]; taken || cs["n"].Count != 3 {
			t.Errorf("counters = %+v", cs)
		}
		if r, err := s.TakeCounts(ctx, nil); err != nil || r.Ended != -1 {
			t.Errorf("no takes: %+v %v", r, err)
		}
	})
	t.Run("TakeCounts_ExactUnderConcurrency", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ended := map[int]int{}
		for range 40 {
			wg.Go(func() {
				r, err := s.TakeCounts(ctx, []store.Take{{App: "a", Name: "qps", Period: "1", Limit: 25}, {App: "a", Name: "daily", Period: "d", Limit: 10}})
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				ended[r.Ended]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if diff := cmp.Diff(map[int]int{-1: 10, 1: 15, 0: 15}, ended); diff != "" {
			t.Errorf("how the sequences ended (-want +got):\n%s", diff)
		}
	})
	t.Run("TakeReply_Facts", func(t *testing.T) {
		s := newStore(t)
		rule := store.WindowRule{Duration: time.Hour, MaxReplies: 2}
		if err := s.OpenWindow(ctx, "a", "u", t0); err != nil {
			t.Fatal(err)
		}
		open := rule
		open.OpenOnFirst = true
		none := rule
		none.MaxReplies = 0
		none.OpenOnFirst = true
		type step struct {
			openID string
			at     time.Duration
			rule   store.WindowRule
		}
		steps := []step{
			{"nobody", 0, rule},
			{"u", time.Minute, rule},
			{"u", 2 * time.Minute, rule},
			{"u", 3 * time.Minute, rule},
			{"u", time.Hour, rule},
			{"u", time.Hour, open},
			{"v", 0, open},
			{"w", 0, none},
		}
		var got []store.ReplyTake
		for _, st := range steps {
			r, err := s.TakeReply(ctx, "a", st.openID, t0.Add(st.at), st.rule)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		u := func(replies int) store.Window {
			return store.Window{OpenID: "u", OpenedAt: t0, Replies: replies, UserMessage: true}
		}
		want := []store.ReplyTake{
			{Refusal: store.ReplyNoWindow},
			{OK: true, Window: u(1)},
			{OK: true, Window: u(2)},
			{Refusal: store.ReplyFull, Window: u(2)},
			{Refusal: store.ReplyExpired, Window: u(2)},
			{OK: true, Window: store.Window{OpenID: "u", OpenedAt: t0.Add(time.Hour), Replies: 1}},
			{OK: true, Window: store.Window{OpenID: "v", OpenedAt: t0, Replies: 1}},
			{Refusal: store.ReplyFull, Window: store.Window{OpenID: "w", OpenedAt: t0}},
		}
		if diff := cmp.Diff(want, got, sameTimes); diff != "" {
			t.Errorf("TakeReply mismatch (-want +got):\n%s", diff)
		}
		ws, _ := s.Windows(ctx, "a")
		wantWs := []store.Window{want[5].Window, want[6].Window, want[7].Window}
		if diff := cmp.Diff(wantWs, ws, sameTimes); diff != "" {
			t.Errorf("Windows() (-want +got):\n%s; a window of no replies is opened all the same", diff)
		}
	})
	t.Run("TakeReply_RefusedTakeHoldsTheApp", func(t *testing.T) {
		s := newStore(t)
		if r, err := s.TakeReply(ctx, "a", "u", t0, store.WindowRule{Duration: time.Hour, MaxReplies: 5}); err != nil || r.Refusal != store.ReplyNoWindow {
			t.Fatalf("TakeReply without a window: %+v %v", r, err)
		}
		// The store holds the app it was asked about (as after any take), so one app's Reset finds it.
		if err := s.Reset(ctx, "a", store.Seed{At: t0}); err != nil {
			t.Errorf("Reset of the app after a refused take: %v", err)
		}
	})
	t.Run("TakeFault_VersionZeroBeforeAnyPlan", func(t *testing.T) {
		s := newStore(t)
		tk, err := s.TakeFault(ctx, 0, store.PlanID{}, store.FaultPolicy{})
		if err != nil || tk != (store.FaultTake{Injected: true, Matched: 1}) {
			t.Errorf("a take at version 0 on a fresh store: %+v %v, want it counted (0 is the version in force)", tk, err)
		}
		counts, _ := s.FaultCounts(ctx, 0)
		if counts[store.PlanID{}] != (store.FaultCount{Matched: 1, Injected: 1}) {
			t.Errorf("FaultCounts(0) = %+v", counts)
		}
	})
	t.Run("TakeFault_Policies", func(t *testing.T) {
		s := newStore(t)
		f, err := s.PutFaults(ctx, []byte("plans"))
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			p    store.FaultPolicy
		}{
			{"Always", store.FaultPolicy{}},
			{"Skip2", store.FaultPolicy{Skip: 2}},
			{"Times3", store.FaultPolicy{Times: 3}},
			{"Steps2", store.FaultPolicy{Steps: 2}},
			{"SkipTimesSteps", store.FaultPolicy{Skip: 1, Times: 4, Steps: 2}},
			{"Probability", store.FaultPolicy{Probability: 0.5, Seed: 1<<63 + 5}},
			{"ProbabilityOneIsAlways", store.FaultPolicy{Probability: 1, Seed: 3}},
			{"SkipAndProbability", store.FaultPolicy{Skip: 3, Times: 5, Probability: 0.4, Seed: 99}},
		} {
			plan := store.PlanID{App: tc.name, Index: 7}
			var want, got []store.FaultTake
			var c store.FaultCount
			for range 12 {
				want = append(want, store.DecideFault(&c, tc.p))
				tk, err := s.TakeFault(ctx, f.Version, plan, tc.p)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, tk)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: takes are not store.DecideFault's (-want +got):\n%s", tc.name, diff)
			}
			counts, _ := s.FaultCounts(ctx, f.Version)
			if counts[plan] != c {
				t.Errorf("%s: FaultCounts = %+v, want %+v", tc.name, counts[plan], c)
			}
		}
		if counts, _ := s.FaultCounts(ctx, f.Version+1000); len(counts) != 0 {
			t.Errorf("counts of a version not in force: %+v", counts)
		}
	})
	t.Run("Seed_AppsTokensWindowsWhereAbsent", func(t *testing.T) {
		s := newStore(t)
		s.RegisterApp(ctx, store.App{ID: "a", Source: "sandbox-client", Capability: false})
		s.PutToken(ctx, store.Token{Value: "tok", App: "x", Issued: t0})
		s.OpenWindow(ctx, "b", "u", t0.Add(-time.Hour))
		sd := store.Seed{At: t0, Apps: []store.App{{ID: "a", Source: "config", Capability: true}, {ID: "b", Source: "config", Capability: true}},
			Tokens:  []store.Token{{Value: "tok", App: "a", Issued: t0}, {Value: "tok-b", App: "b", Issued: t0}},
			Windows: []store.SeedWindow{{App: "b", OpenID: "u"}, {App: "b", OpenID: "v"}}}
		if err := s.Seed(ctx, sd); err != nil {
			t.Fatal(err)
		}
		apps, _ := s.Apps(ctx)
		wantApps := []store.App{{ID: "a", Source: "sandbox-client"}, {ID: "b", Source: "config", Capability: true}}
		if diff := cmp.Diff(wantApps, apps); diff != "" {
			t.Errorf("apps (-want +got):\n%s", diff)
		}
		tok, _, _ := s.Token(ctx, "tok")
		tokB, _, _ := s.Token(ctx, "tok-b")
		if tok.App != "x" || tokB.App != "b" {
			t.Errorf("tokens: %+v %+v, want the held one kept and the new one stored", tok, tokB)
		}
		ws, _ := s.Windows(ctx, "b")
		wantWs := []store.Window{{OpenID: "u", OpenedAt: t0.Add(-time.Hour), UserMessage: true}, {OpenID: "v", OpenedAt: t0, UserMessage: true}}
		if diff := cmp.Diff(wantWs, ws, sameTimes); diff != "" {
			t.Errorf("windows (-want +got):\n%s", diff)
		}
	})
	t.Run("Append_NumbersAcrossApps", func(t *testing.T) {
		s := newStore(t)
		var seqs []uint64
		for i := range 5 {
			seq, err := s.Append(ctx, store.Entry{ID: fmt.Sprint(i), App: []string{"a", store.NoApp}[i%2], Time: t0})
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, seq)
		}
		for i := 1; i < len(seqs); i++ {
			if seqs[i] != seqs[i-1]+1 {
				t.Errorf("sequence numbers %v: want one more per entry", seqs)
			}
		}
		if head, _ := s.Head(ctx); head != seqs[4] {
			t.Errorf("Head = %d, want %d", head, seqs[4])
		}
		es, _ := s.Journal(ctx, store.Query{App: store.NoApp})
		if len(es) != 5 {
			t.Errorf("every app's journal: %d entries, want 5", len(es))
		}
	})
}
