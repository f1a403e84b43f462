package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
)

// agreeJournalCap is the journal cap of both stores in FuzzStoresAgree: small, so the fuzzer
// reaches the trimming.
const agreeJournalCap = 4

// agreeOpts normalise what legitimately differs between the in-memory store and the Redis store:
//   - times are compared as instants: the Redis store gives them back in now's location or from
//     JSON (no monotonic reading, another *time.Location), the in-memory store as it was given;
//   - Lookup.Now is the store's clock: zero for the in-memory store, Redis's TIME for Redis;
//   - empty and nil slices and maps are the same (Redis keeps no difference between an empty
//     encoding and none).
var agreeOpts = cmp.Options{
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
	cmpopts.IgnoreFields(store.Lookup{}, "Now"),
	cmpopts.EquateEmpty(),
}

// agreeReader reads the fuzz input as a sequence of small choices; past its end every choice is 0.
type agreeReader struct {
	b []byte
	i int
}

func (r *agreeReader) more() bool { return r.i < len(r.b) }

func (r *agreeReader) byte() byte {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return r.b[r.i-1]
}

// pick chooses one of xs.
func pick[T any](r *agreeReader, xs ...T) T { return xs[int(r.byte())%len(xs)] }

// The alphabet: few apps, users, tokens and names, so calls meet each other's state.
var (
	// "c<&" is an id that JSON escapes.
	agreeApps    = []string{"a", "b", "c<&"}
	agreeAnyApp  = []string{"a", "b", "c<&", store.NoApp}
	agreeUsers   = []string{"u", "v"}
	agreeTokens  = []string{"t1", "t2", "t3", ""}
	agreeCounter = []string{"qps", "daily", "rule:0"}
	agreePeriods = []string{"p1", "p2"}
	agreeSources = []string{"config", "sandbox-client", "sandbox-token"}
	agreeBlobs   = [][]byte{nil, []byte("plans"), []byte(`[{"kind":"http_503"}]`), {0, 255}}
)

// agreeCall is one primitive call played on both stores: its name (for the report) and its
// result, compared with go-cmp after agreeOpts.
type agreeCall struct {
	name string
	do   func(ctx context.Context, s store.Store) any
}

// errResult is how a call's error is compared: whether there was one and which of the store's
// sentinel errors it wraps (the messages differ: each store names itself).
func errResult(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, store.ErrUnknownApp):
		return "ErrUnknownApp"
	case errors.Is(err, store.ErrConfiguredApp):
		return "ErrConfiguredApp"
	}
	return "error: " + err.Error()
}

// nextCall decodes one call from r at the fake time now (which it may advance).
func nextCall(r *agreeReader, now *time.Time, faultV func(ctx context.Context) uint64) agreeCall {
	at := *now
	switch op := r.byte() % 22; op {
	case 0:
		a := store.App{ID: pick(r, agreeApps...), ClientID: pick(r, "", "k"), ClientSecret: pick(r, "", "s1", "s2"),
			Source: pick(r, agreeSources...), Capability: pick(r, true, false), ClockOffset: time.Duration(r.byte()) * time.Minute}
		return agreeCall{fmt.Sprintf("RegisterApp(%+v)", a), func(ctx context.Context, s store.Store) any {
			got, created, err := s.RegisterApp(ctx, a)
			return []any{got, created, errResult(err)}
		}}
	case 1:
		t := store.Token{Value: pick(r, agreeTokens[:3]...), App: pick(r, agreeAnyApp...), Refresh: pick(r, false, true), Issued: at}
		if r.byte()%2 == 0 {
			t.Expires = at.Add(time.Duration(r.byte()) * time.Minute)
		}
		return agreeCall{fmt.Sprintf("PutToken(%+v)", t), func(ctx context.Context, s store.Store) any {
			return errResult(s.PutToken(ctx, t))
		}}
	case 2:
		tok, fb := pick(r, agreeTokens...), pick(r, agreeAnyApp...)
		return agreeCall{fmt.Sprintf("Lookup(%q, %q)", tok, fb), func(ctx context.Context, s store.Store) any {
			lk, err := s.Lookup(ctx, tok, fb)
			return []any{lk, errResult(err)}
		}}
	case 3:
		app, user := pick(r, agreeAnyApp...), pick(r, agreeUsers...)
		return agreeCall{fmt.Sprintf("OpenWindow(%q, %q, %v)", app, user, at), func(ctx context.Context, s store.Store) any {
			return errResult(s.OpenWindow(ctx, app, user, at))
		}}
	case 4:
		app, user := pick(r, agreeAnyApp...), pick(r, agreeUsers...)
		rule := store.WindowRule{Duration: pick(r, time.Hour, 48*time.Hour, 0, -time.Minute), MaxReplies: pick(r, 0, 1, 2, 5, -1),
			OpenOnFirst: pick(r, false, true)}
		return agreeCall{fmt.Sprintf("TakeReply(%q, %q, %v, %+v)", app, user, at, rule), func(ctx context.Context, s store.Store) any {
			t, err := s.TakeReply(ctx, app, user, at, rule)
			return []any{t, errResult(err)}
		}}
	case 5:
		app, name, period, limit := pick(r, agreeAnyApp...), pick(r, agreeCounter...), pick(r, agreePeriods...), int(r.byte()%5)-1
		return agreeCall{fmt.Sprintf("TakeCount(%q, %q, %q, %d)", app, name, period, limit), func(ctx context.Context, s store.Store) any {
			n, ok, err := s.TakeCount(ctx, app, name, period, limit)
			return []any{n, ok, errResult(err)}
		}}
	case 6:
		var takes []store.Take
		for range r.byte() % 4 {
			takes = append(takes, store.Take{App: pick(r, agreeAnyApp...), Name: pick(r, agreeCounter...), Period: pick(r, agreePeriods...),
				Limit: int(r.byte()%5) - 1, EndsWhenCounted: pick(r, false, true)})
		}
		return agreeCall{fmt.Sprintf("TakeCounts(%+v)", takes), func(ctx context.Context, s store.Store) any {
			res, err := s.TakeCounts(ctx, takes)
			return []any{res, errResult(err)}
		}}
	case 7:
		stale := r.byte()%4 == 0
		plan := store.PlanID{App: pick(r, agreeAnyApp...), Index: int(r.byte() % 3)}
		p := store.FaultPolicy{Skip: int(r.byte()%4) - 1, Times: int(r.byte()%4) - 1, Steps: int(r.byte() % 3),
			Probability: pick(r, 0, 0.5, 1, 0.1, -1, 2), Seed: uint64(r.byte()) << pick(r, 0, 31, 56)}
		return agreeCall{fmt.Sprintf("TakeFault(stale %v, %+v, %+v)", stale, plan, p), func(ctx context.Context, s store.Store) any {
			v := faultV(ctx)
			if stale {
				v--
			}
			t, err := s.TakeFault(ctx, v, plan, p)
			return []any{t, errResult(err)}
		}}
	case 8:
		b := pick(r, agreeBlobs...)
		return agreeCall{fmt.Sprintf("PutRules(%q)", b), func(ctx context.Context, s store.Store) any {
			rs, err := s.PutRules(ctx, b)
			return []any{rs, errResult(err)}
		}}
	case 9:
		b := pick(r, agreeBlobs...)
		return agreeCall{fmt.Sprintf("PutFaults(%q)", b), func(ctx context.Context, s store.Store) any {
			fs, err := s.PutFaults(ctx, b)
			return []any{fs, errResult(err)}
		}}
	case 10:
		return agreeCall{"RestartFaults", func(ctx context.Context, s store.Store) any {
			fs, err := s.RestartFaults(ctx)
			return []any{fs, errResult(err)}
		}}
	case 11:
		e := store.Entry{ID: "e" + strconv.Itoa(int(r.byte())), Time: at, AppTime: at.Add(time.Minute), App: pick(r, agreeAnyApp...),
			OpenID: pick(r, agreeUsers...), Endpoint: pick(r, "send", "token"), Layer: "business", Code: pick(r, 0, 90001),
			Reason: pick(r, "", "r"), Params: []store.Param{{Name: "n", Value: "v", Source: "body", Used: true}}}
		if r.byte()%2 == 0 {
			e.Warnings = []store.Warning{{Kind: "k", Message: "m"}}
		}
		return agreeCall{fmt.Sprintf("Append(%+v)", e), func(ctx context.Context, s store.Store) any {
			seq, err := s.Append(ctx, e)
			return []any{seq, errResult(err)}
		}}
	case 12:
		q := store.Query{App: pick(r, agreeAnyApp...), OpenID: pick(r, "", "u"), Endpoint: pick(r, "", "send"),
			Outcome: pick(r, "", "ok", "90001", "error"), Before: uint64(r.byte() % 8), After: uint64(r.byte() % 4), Limit: int(r.byte() % 4)}
		return agreeCall{fmt.Sprintf("Journal(%+v)", q), func(ctx context.Context, s store.Store) any {
			es, err := s.Journal(ctx, q)
			return []any{es, errResult(err)}
		}}
	case 13:
		app := pick(r, agreeAnyApp...)
		var capability *bool
		if c := r.byte() % 3; c < 2 {
			b := c == 1
			capability = &b
		}
		advance := time.Duration(int(r.byte())-128) * time.Second
		return agreeCall{fmt.Sprintf("UpdateApp(%q, %v, %v)", app, capability, advance), func(ctx context.Context, s store.Store) any {
			a, err := s.UpdateApp(ctx, app, capability, advance)
			return []any{a, errResult(err)}
		}}
	case 14, 15:
		sd := agreeSeed(r, at)
		app := ""
		if op == 14 && r.byte()%2 == 0 {
			app = pick(r, agreeApps...)
		}
		if op == 14 {
			return agreeCall{fmt.Sprintf("Reset(%q, %+v)", app, sd), func(ctx context.Context, s store.Store) any {
				return errResult(s.Reset(ctx, app, sd))
			}}
		}
		return agreeCall{fmt.Sprintf("Seed(%+v)", sd), func(ctx context.Context, s store.Store) any {
			return errResult(s.Seed(ctx, sd))
		}}
	case 16:
		app := pick(r, agreeAnyApp...)
		return agreeCall{fmt.Sprintf("Windows, Counters, JournalStats(%q)", app), func(ctx context.Context, s store.Store) any {
			ws, err1 := s.Windows(ctx, app)
			cs, err2 := s.Counters(ctx, app)
			held, dropped, err3 := s.JournalStats(ctx, app)
			return []any{ws, cs, held, dropped, errResult(errors.Join(err1, err2, err3))}
		}}
	case 17:
		app := pick(r, agreeAnyApp...)
		return agreeCall{fmt.Sprintf("DeleteApp(%q)", app), func(ctx context.Context, s store.Store) any {
			return errResult(s.DeleteApp(ctx, app))
		}}
	case 18:
		return agreeCall{"Apps, Head", func(ctx context.Context, s store.Store) any {
			apps, err1 := s.Apps(ctx)
			head, err2 := s.Head(ctx)
			return []any{apps, head, errResult(errors.Join(err1, err2))}
		}}
	case 19:
		return agreeCall{"Rules, Faults, FaultCounts", func(ctx context.Context, s store.Store) any {
			rs, err1 := s.Rules(ctx)
			fs, err2 := s.Faults(ctx)
			fc, err3 := s.FaultCounts(ctx, fs.Version)
			return []any{rs, fs, fc, errResult(errors.Join(err1, err2, err3))}
		}}
	case 20:
		tok := pick(r, agreeTokens...)
		return agreeCall{fmt.Sprintf("Token(%q)", tok), func(ctx context.Context, s store.Store) any {
			t, ok, err := s.Token(ctx, tok)
			return []any{t, ok, errResult(err)}
		}}
	default:
		d := time.Duration(r.byte()) * pick(r, time.Nanosecond, time.Second, time.Minute, time.Hour)
		*now = now.Add(d)
		return agreeCall{fmt.Sprintf("clock +%v", d), func(context.Context, store.Store) any { return nil }}
	}
}

// agreeSeed decodes a configured state.
func agreeSeed(r *agreeReader, at time.Time) store.Seed {
	sd := store.Seed{At: at, Rules: pick(r, agreeBlobs...), Faults: pick(r, agreeBlobs...)}
	for _, id := range agreeApps[:r.byte()%3] {
		sd.Apps = append(sd.Apps, store.App{ID: id, ClientID: "k" + id, Source: "config", Capability: pick(r, true, false)})
		if r.byte()%2 == 0 {
			sd.Tokens = append(sd.Tokens, store.Token{Value: pick(r, agreeTokens[:3]...), App: id, Issued: at})
		}
		if r.byte()%2 == 0 {
			sd.Windows = append(sd.Windows, store.SeedWindow{App: id, OpenID: pick(r, agreeUsers...)})
		}
		if r.byte()%3 == 0 {
			if sd.AppFaults == nil {
				sd.AppFaults = map[string][]byte{}
			}
			sd.AppFaults[id] = pick(r, agreeBlobs...)
		}
	}
	return sd
}

// FuzzStoresAgree plays a random sequence of primitive calls on the in-memory store and on the
// Redis store (over miniredis), and fails at the first result on which they differ: the two
// stores must be interchangeable, whatever the order of calls.
func FuzzStoresAgree(f *testing.F) {
	// The seed corpus is in testdata/fuzz/FuzzStoresAgree: a seeded app's sends, plans and their
	// takes, the journal past its cap, a sandbox app deleted, and the disagreements found so far.
	f.Add([]byte{})
	m, err := miniredis.Run()
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(m.Close)
	rs := openT(f, "redis://"+m.Addr(), Options{JournalCap: agreeJournalCap})
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		m.FlushAll()
		ms := memstore.New(agreeJournalCap)
		r := &agreeReader{b: data}
		now := t0
		faultV := func(ctx context.Context) uint64 { fs, _ := ms.Faults(ctx); return fs.Version }
		var played []string
		for step := 0; r.more() && step < 64; step++ {
			c := nextCall(r, &now, faultV)
			played = append(played, c.name)
			want := c.do(ctx, ms)
			got := c.do(ctx, rs)
			if diff := cmp.Diff(want, got, agreeOpts); diff != "" {
				t.Fatalf("the stores disagree at call %d, %s (-memstore +redisstore):\n%s\ncalls:\n  %s", step, c.name, diff, joinLines(played))
			}
		}
	})
}

func joinLines(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += "\n  "
		}
		out += x
	}
	return out
}
