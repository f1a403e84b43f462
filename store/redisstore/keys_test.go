package redisstore

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock/store"
)

// recorder is a go-redis hook that counts round trips (a command, or a pipeline) and records
// what was sent.
type recorder struct {
	mu    sync.Mutex
	trips int
	sent  []string   // one line per round trip: the command names, space-separated
	keys  [][]string // the KEYS of each script run
}

func (r *recorder) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (r *recorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.record([]redis.Cmder{cmd})
		return next(ctx, cmd)
	}
}

func (r *recorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.record(cmds)
		return next(ctx, cmds)
	}
}

func (r *recorder) record(cmds []redis.Cmder) {
	if len(cmds) == 1 && slices.Contains([]string{"hello", "auth", "select", "client"}, cmds[0].Name()) {
		return // a new connection's handshake, not an operation's round trip
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trips++
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name())
		if c.Name() == "evalsha" || c.Name() == "eval" {
			args := c.Args()
			n, _ := strconv.Atoi(fmt.Sprint(args[2]))
			var keys []string
			for _, k := range args[3 : 3+n] {
				keys = append(keys, fmt.Sprint(k))
			}
			r.keys = append(r.keys, keys)
		}
	}
	r.sent = append(r.sent, strings.Join(names, " "))
}

// reset forgets what was recorded.
func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trips, r.sent, r.keys = 0, nil, nil
}

// hashTag is the part of a key that Redis Cluster hashes to a slot.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// recordedT opens a store on a miniredis with a recorder hook.
func recordedT(t *testing.T) (*Store, *recorder) {
	s, _ := miniT(t, Options{})
	r := &recorder{}
	s.rdb.AddHook(r)
	return s, r
}

func TestScripts_HashTags(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	seed := store.Seed{At: t0, Apps: []store.App{{ID: "a", Source: "config"}}, Windows: []store.SeedWindow{{App: "a", OpenID: "u"}}}
	for _, tc := range []struct {
		name string
		run  func(s *Store) error
		// tags are the hash tags of the script's keys, in order of first use
		tags []string
	}{
		{"TakeReply_AppSlot", func(s *Store) error {
			_, err := s.TakeReply(ctx, "a", "u", t0, store.WindowRule{Duration: time.Hour, MaxReplies: 5, OpenOnFirst: true})
			return err
		}, []string{"a"}},
		{"TakeCounts_RegistryAndTheTakesApps", func(s *Store) error {
			_, err := s.TakeCounts(ctx, []store.Take{{App: store.NoApp, Name: "rule:0", Period: "v1", EndsWhenCounted: true, Limit: 1},
				{App: "a", Name: "qps", Period: "1", Limit: 5}})
			return err
		}, []string{"global", "noapp", "a"}},
		{"Lookup_TokensAndPlans", func(s *Store) error { _, err := s.Lookup(ctx, "24.x", "a"); return err }, []string{"tokens", "plans"}},
		{"TakeCount_NoAppSlot", func(s *Store) error { _, _, err := s.TakeCount(ctx, store.NoApp, "rule:0", "v1", 1); return err }, []string{"noapp"}},
		{"OpenWindow_AppSlot", func(s *Store) error { return s.OpenWindow(ctx, "a", "u", t0) }, []string{"a"}},
		{"RegisterApp_AppSlot", func(s *Store) error { _, _, err := s.RegisterApp(ctx, store.App{ID: "a"}); return err }, []string{"a"}},
		{"UpdateApp_AppSlot", func(s *Store) error { _, err := s.UpdateApp(ctx, "a", nil, time.Hour); return err }, []string{"a"}},
		{"ResetApp_AppSlot", func(s *Store) error { return s.Reset(ctx, "a", seed) }, []string{"a"}},
		{"TakeFault_PlansSlot", func(s *Store) error {
			_, err := s.TakeFault(ctx, 1, store.PlanID{App: "a"}, store.FaultPolicy{})
			return err
		}, []string{"plans"}},
		{"PutRules_PlansSlot", func(s *Store) error { _, err := s.PutRules(ctx, nil); return err }, []string{"plans"}},
		{"PutFaults_PlansSlot", func(s *Store) error { _, err := s.PutFaults(ctx, nil); return err }, []string{"plans"}},
		{"PutToken_TokensSlot", func(s *Store) error { return s.PutToken(ctx, store.Token{Value: "24.x", App: "a"}) }, []string{"tokens"}},
		{"Append_GlobalAndAppSlots", func(s *Store) error { _, err := s.Append(ctx, store.Entry{App: "a"}); return err }, []string{"global", "a"}},
		{"Seed_GlobalTokensPlans", func(s *Store) error { return s.Seed(ctx, seed) }, []string{"global", "tokens", "plans"}},
		{"ResetAll_GlobalTokensPlans", func(s *Store) error { return s.Reset(ctx, "", seed) }, []string{"global", "tokens", "plans"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, r := recordedT(t)
			if err := s.Seed(ctx, seed); err != nil {
				t.Fatal(err)
			}
			r.reset()
			if err := tc.run(s); err != nil {
				t.Fatal(err)
			}
			if len(r.keys) == 0 {
				t.Fatal("no script ran")
			}
			var tags []string
			for _, k := range r.keys[len(r.keys)-1] {
				if tag := hashTag(k); !slices.Contains(tags, tag) {
					tags = append(tags, tag)
				}
			}
			if diff := cmp.Diff(tc.tags, tags); diff != "" {
				t.Errorf("hash tags of the script's keys (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRoundTrips_OneScriptOnceRegistered(t *testing.T) {
	ctx := context.Background()
	s, r := recordedT(t)
	s.TakeCount(ctx, "fresh", "daily", "d1", 0)
	want := []string{"evalsha", "eval", "zadd hset", "evalsha"} // the first run also loads the script
	if diff := cmp.Diff(want, r.sent); diff != "" {
		t.Errorf("first write of a new app (-want +got):\n%s", diff)
	}
	if _, err := s.rdb.ZScore(ctx, s.registry, "fresh").Result(); err != nil {
		t.Error("the new app is not in the registry")
	}
	r.reset()
	s.TakeCount(ctx, "fresh", "daily", "d1", 0)
	if diff := cmp.Diff([]string{"evalsha"}, r.sent); diff != "" {
		t.Errorf("a registered app's write (-want +got):\n%s", diff)
	}
}

// TestRoundTrips_APlainSendIsThreeScriptRuns pins the round trips of the primitives a plain
// valid send calls (Lookup, TakeReply, Append) and of TakeCounts: one script run each, on a
// registered app, and none at all for no takes.
func TestRoundTrips_APlainSendIsThreeScriptRuns(t *testing.T) {
	ctx := context.Background()
	s, r := recordedT(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rule := store.WindowRule{Duration: time.Hour, MaxReplies: 5, OpenOnFirst: true}
	send := func() {
		t.Helper()
		lk, err := s.Lookup(ctx, "static", "")
		if err != nil || !lk.AppFound {
			t.Fatalf("Lookup: %+v %v", lk, err)
		}
		if _, err := s.TakeCounts(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TakeCounts(ctx, []store.Take{{App: "a", Name: "qps", Period: "1", Limit: 100}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TakeReply(ctx, "a", "u", t0, rule); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, store.Entry{App: "a"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Seed(ctx, store.Seed{At: t0, Apps: []store.App{{ID: "a", Source: "config"}}, Tokens: []store.Token{{Value: "static", App: "a"}}}); err != nil {
		t.Fatal(err)
	}
	send() // loads the scripts
	r.reset()
	send()
	if diff := cmp.Diff([]string{"evalsha", "evalsha", "evalsha", "evalsha"}, r.sent); diff != "" {
		t.Errorf("round trips of a send's primitives (-want +got):\n%s", diff)
	}
}

func TestReset_AllLeavesTheCountersFeedSessionsAndSeed(t *testing.T) {
	ctx := context.Background()
	s, m := miniT(t, Options{})
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	seed := store.Seed{
		At: t0, Apps: []store.App{{ID: "a", Source: "config"}}, Tokens: []store.Token{{Value: "static", App: "a"}},
		Windows: []store.SeedWindow{{App: "a", OpenID: "u"}}, Rules: []byte("rules"),
	}
	s.Seed(ctx, seed)
	for _, app := range []string{"a", "b", store.NoApp} {
		s.RegisterApp(ctx, store.App{ID: app})
		s.TakeReply(ctx, app, "v", t0, store.WindowRule{Duration: time.Hour, MaxReplies: 1, OpenOnFirst: true})
		s.TakeCount(ctx, app, "daily", "d", 0)
		s.Append(ctx, store.Entry{App: app})
	}
	s.PutToken(ctx, store.Token{Value: "issued", App: "b", Expires: t0.Add(time.Hour)})
	f, _ := s.PutFaults(ctx, []byte("faults"))
	s.TakeFault(ctx, f.Version, store.PlanID{}, store.FaultPolicy{})
	s.PutSession(ctx, "sid", time.Now().Add(time.Hour))
	if err := s.Reset(ctx, "", store.Seed{At: t0}); err != nil {
		t.Fatal(err)
	}
	keys := m.Keys()
	sort.Strings(keys)
	p := s.opts.Prefix
	want := []string{p + "session:sid", p + "{global}:feed", p + "{global}:seq", p + "{plans}:def", p + "{plans}:ver"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("keys after a reset to an empty seed (-want +got):\n%s", diff)
	}
}

func TestLimits(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t.Run("MaxTokens_OldestIssuedDroppedConfiguredKept", func(t *testing.T) {
		s, _ := miniT(t, Options{MaxTokens: 2})
		s.PutToken(ctx, store.Token{Value: "configured", App: "a"})
		for i := range 4 {
			s.PutToken(ctx, store.Token{Value: "issued" + strconv.Itoa(i), App: "a", Expires: t0.Add(time.Hour)})
		}
		var held []string
		for _, v := range []string{"configured", "issued0", "issued1", "issued2", "issued3"} {
			if _, ok, _ := s.Token(ctx, v); ok {
				held = append(held, v)
			}
		}
		if diff := cmp.Diff([]string{"configured", "issued2", "issued3"}, held); diff != "" {
			t.Errorf("tokens held (-want +got):\n%s", diff)
		}
	})
	t.Run("MaxWindowsPerApp_ExpiredFirstThenOldest", func(t *testing.T) {
		s, _ := miniT(t, Options{MaxWindowsPerApp: 3})
		rule := store.WindowRule{Duration: time.Hour, MaxReplies: 5, OpenOnFirst: true}
		s.OpenWindow(ctx, "a", "old", t0)
		s.OpenWindow(ctx, "a", "mid", t0.Add(50*time.Minute))
		s.OpenWindow(ctx, "a", "new", t0.Add(55*time.Minute))
		s.TakeReply(ctx, "a", "x", t0.Add(61*time.Minute), rule) // "old" has expired: it goes
		s.OpenWindow(ctx, "a", "y", t0.Add(62*time.Minute))      // full, none expired without a rule: the oldest goes
		ws, _ := s.Windows(ctx, "a")
		var ids []string
		for _, w := range ws {
			ids = append(ids, w.OpenID)
		}
		if diff := cmp.Diff([]string{"new", "x", "y"}, ids); diff != "" {
			t.Errorf("windows held (-want +got):\n%s", diff)
		}
	})
}
