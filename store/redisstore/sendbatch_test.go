package redisstore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
)

// TestSendBatcher_ConcurrentSendsEachDecidedOnce sends from many goroutines at once (so the
// batcher puts several in one pipeline) and checks that every send was decided once: distinct
// sequence numbers, replies counted 1..n in one window, every entry journaled once, as sent.
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
					in := unlimitedSend(time.Now(), n)
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
			// Each entry is its own send's (an entry buffer reused before its script ran would
			// show another send's id, or a torn one).
			ids := map[string]bool{}
			for _, e := range es {
				ids[e.ID] = true
			}
			for i := range n {
				if id := "req-" + strconv.Itoa(i); !ids[id] {
					t.Errorf("no journal entry has id %q", id)
				}
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
					in := unlimitedSend(time.Now(), n)
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

// TestSendScript_ARunDecidesAsSendsAlone runs sends as one script run, and the same sends one by
// one on a second store: every send answers and is journaled the same, so what a run shares (the
// clock, the plans, the tokens and apps it has read, the registry it has checked) never leaks from
// one send into the next.
func TestSendScript_ARunDecidesAsSendsAlone(t *testing.T) {
	ctx := context.Background()
	for _, rc := range []struct {
		name string
		seed func(t *testing.T, s *Store, now time.Time)
		ins  func(now time.Time) []store.SendInput
	}{
		// Two apps, a full window, a token not issued, a sandbox app registered by its first send
		// and used by the next, a rule and a fault plan used up, other window rules, an invalid send.
		{"mix", seedMix, runMix},
		// QPS and daily limits on an app whose clock is ahead, expired, refresh and orphan tokens,
		// an app without the capability (a reviewer's case).
		{"limits, clock offset, tokens", seedLimits, runLimits},
		// Rules that do not decode: each send fails, also after the first in the run.
		{"rules that do not decode", func(t *testing.T, s *Store, now time.Time) {
			seedMix(t, s, now)
			if err := s.rdb.HSet(context.Background(), s.plans, "rules", `[{"name":"x"`).Err(); err != nil {
				t.Fatal(err)
			}
		}, func(now time.Time) []store.SendInput { return runMix(now)[:3] }},
		// A sandbox app that cannot be registered (its meta key holds a string): each of its sends
		// fails, also after the first in the run.
		{"registration that fails", func(t *testing.T, s *Store, now time.Time) {
			seedMix(t, s, now)
			if err := s.rdb.Set(context.Background(), s.akey("sbx-app", "meta"), "not a hash", 0).Err(); err != nil {
				t.Fatal(err)
			}
		}, func(now time.Time) []store.SendInput { return runMix(now)[5:7] }},
	} {
		for _, tc := range bothRedis() {
			t.Run(rc.name+"/"+tc.name, func(t *testing.T) {
				together, alone := tc.open(t), tc.open(t)
				if tc.name == "RedisServer" { // one server: a prefix of its own for the second store
					alone = openT(t, realRedisURL(t), Options{Prefix: testPrefix()})
				}
				if rc.name == "limits, clock offset, tokens" {
					// The QPS limit counts per second of Redis's clock: both runs start at the
					// beginning of one, so no second ends between one run's sends.
					time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 5*time.Millisecond)))
				}
				now := time.Now()
				rc.seed(t, together, now)
				rc.seed(t, alone, now)
				ins := rc.ins(now)
				if diff := cmp.Diff(runAlone(t, alone, ins), runTogether(t, together, ins)); diff != "" {
					t.Errorf("answers (-alone +run):\n%s", diff)
				}
				wantJ, err := alone.Journal(ctx, store.Query{})
				if err != nil {
					t.Fatal(err)
				}
				gotJ, err := together.Journal(ctx, store.Query{})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(journalOutcomes(wantJ), journalOutcomes(gotJ)); diff != "" {
					t.Errorf("journal (-alone +run):\n%s", diff)
				}
				// The same keys: no send of the run wrote a key its twin alone did not (an app's
				// keys without the app in the registry, say).
				if diff := cmp.Diff(storeKeys(t, alone), storeKeys(t, together)); diff != "" {
					t.Errorf("keys (-alone +run):\n%s", diff)
				}
			})
		}
	}
}

// unlimitedSend is sendInput without QPS and daily limits, in a window of maxReplies.
func unlimitedSend(now time.Time, maxReplies int) store.SendInput {
	in := sendInput(now)
	in.Limits.Default.QPS, in.Limits.Default.Daily = 0, 0
	in.Window.MaxReplies = maxReplies
	return in
}

// storeKeys lists s's keys without its prefix, sorted.
func storeKeys(t *testing.T, s *Store) []string {
	t.Helper()
	keys, err := s.rdb.Keys(context.Background(), s.opts.Prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		keys[i] = strings.TrimPrefix(k, s.opts.Prefix)
	}
	slices.Sort(keys)
	return keys
}

// runTogether runs ins as one run of the send script on s and answers what each send answered
// ("error" for a send that failed).
func runTogether(t *testing.T, s *Store, ins []store.SendInput) []string {
	t.Helper()
	var args []any
	for i := range ins {
		e := ins[i].Entry
		e.AppTime = ins[i].Now
		entry, err := appendEntryJSON(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		pre, err := preArg(&ins[i])
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, s.sendArgs(&ins[i], pre, entry)...)
	}
	xs, err := s.sendScript(ins[0].Warn).Run(context.Background(), s.rdb, nil, args...).Slice()
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != len(ins) {
		t.Fatalf("%d replies for %d sends", len(xs), len(ins))
	}
	var out []string
	for i := range ins {
		switch x := xs[i].(type) {
		case error:
			out = append(out, "error")
		case []any:
			r, err := s.sendResult(&ins[i], x)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, sendOutcome(r))
		default:
			t.Fatalf("send %d: reply %v", i, x)
		}
	}
	return out
}

// runAlone sends ins one by one on s and answers what each send answered ("error" for a send
// that failed).
func runAlone(t *testing.T, s *Store, ins []store.SendInput) []string {
	t.Helper()
	var out []string
	for i := range ins {
		r, err := s.Send(context.Background(), ins[i])
		if err != nil {
			out = append(out, "error")
			continue
		}
		out = append(out, sendOutcome(r))
	}
	return out
}

// seedMix seeds the store of runMix: apps a and b, a rule and a fault plan of one use each.
func seedMix(t *testing.T, s *Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := s.Seed(ctx, store.Seed{At: now,
		Apps:   []store.App{{ID: "a", Source: "config", Capability: true}, {ID: "b", Source: "config", Capability: true}},
		Tokens: []store.Token{{Value: "tok-a", App: "a"}, {Value: "tok-b", App: "b"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutRules(ctx, []config.Rule{{Name: "busy", Match: config.Match{Content: "rule me"}, Answer: config.Answer{Errno: intp(3001)}, Times: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutFaults(ctx, []config.Fault{{Match: config.Match{OpenID: "faulty"}, Kind: "http_503", Times: 1}}); err != nil {
		t.Fatal(err)
	}
}

// seedLimits seeds the store of runLimits: app a's clock 90 minutes ahead, app b without the
// capability, tokens expired, valid for an hour, refresh, and of an app that is gone.
func seedLimits(t *testing.T, s *Store, now time.Time) {
	t.Helper()
	if err := s.Seed(context.Background(), store.Seed{At: now,
		Apps: []store.App{{ID: "a", Source: "config", Capability: true, ClockOffset: 90*time.Minute + 123*time.Nanosecond},
			{ID: "b", Source: "config", Capability: false}},
		Tokens: []store.Token{{Value: "tok-a", App: "a"}, {Value: "tok-b", App: "b"},
			{Value: "old", App: "a", Expires: now.Add(-time.Hour)}, {Value: "later", App: "a", Expires: now.Add(time.Hour)},
			{Value: "ref", App: "a", Refresh: true}, {Value: "gone", App: "zz"}}}); err != nil {
		t.Fatal(err)
	}
}

// runLimits is the sends of the case "limits, clock offset, tokens".
func runLimits(now time.Time) []store.SendInput {
	var ins []store.SendInput
	add := func(tok string, qps, daily int, oid string) {
		in := sendInput(now)
		in.Token, in.Match.Token = tok, tok
		in.Limits.Default.QPS, in.Limits.Default.Daily = qps, daily
		in.Match.OpenID = oid
		in.Window.MaxReplies = 3
		in.Entry.ID = tok + "-" + oid
		ins = append(ins, in)
	}
	for range 4 {
		add("tok-a", 2, 3, "u")
	}
	for _, tok := range []string{"old", "later", "ref", "gone", "tok-b", "later", "later", "later"} {
		add(tok, 0, 0, "v")
	}
	return ins
}

// runMix is the sends of TestSendScript_ARunDecidesAsSendsAlone.
func runMix(now time.Time) []store.SendInput {
	var ins []store.SendInput
	add := func(id string, change func(in *store.SendInput)) {
		in := unlimitedSend(now, 2)
		in.Entry.ID = id
		in.Warn.OpenOnFirstSend = store.Warning{Kind: "open_on_first_send", Message: "opened by this send"}
		if change != nil {
			change(&in)
		}
		ins = append(ins, in)
	}
	useToken := func(tok string) func(*store.SendInput) {
		return func(in *store.SendInput) { in.Token, in.Match.Token = tok, tok }
	}
	sandbox := func(in *store.SendInput) {
		in.Token, in.Match.Token, in.Sandbox, in.SandboxApp = "sbx-token", "sbx-token", true, "sbx-app"
	}
	add("a-1", nil)
	add("b-1", useToken("tok-b"))
	add("a-2", nil)
	add("a-3 window full", nil)
	add("not issued", useToken("stranger"))
	add("sandbox registers", sandbox)
	add("sandbox again", sandbox)
	add("rule", func(in *store.SendInput) { in.Match.Content = "rule me"; in.Match.OpenID = "v" })
	add("rule used up", func(in *store.SendInput) { in.Match.Content = "rule me"; in.Match.OpenID = "v" })
	add("fault", func(in *store.SendInput) { in.Match.OpenID = "faulty" })
	add("fault used up", func(in *store.SendInput) { in.Match.OpenID = "faulty" })
	add("other window rule", func(in *store.SendInput) { in.Match.OpenID = "w"; in.Window.MaxReplies = 0 })
	add("invalid", func(in *store.SendInput) {
		in.Match.OpenID = "x"
		in.Invalid = &store.Verdict{Layer: "business", Code: 3001, Reason: "open_id missing"}
	})
	return ins
}

// clockInReason matches a time in a reason ("window opened at 2026-11-30T14:23:13Z", "in second
// 1796058859", "on 2026-11-30"): the two stores of TestSendScript_ARunDecidesAsSendsAlone run a
// moment apart, on Redis's clock.
var clockInReason = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)|second \d+|on \d{4}-\d\d-\d\d`)

// sendOutcome is what a send answered, without its clock.
func sendOutcome(r store.SendResult) string {
	s := fmt.Sprintf("seq=%d app=%s %s %d %q rule=%q stopped=%v", r.Seq, r.App, r.Layer, r.Code,
		clockInReason.ReplaceAllString(r.Reason, "<time>"), r.Rule, r.Stopped)
	if r.Fault != nil {
		s += fmt.Sprintf(" fault=%s/%d %+v", r.Fault.Plan.App, r.Fault.Plan.Index, r.Fault.Take)
	}
	for _, w := range r.Warnings {
		s += " warning=" + w.Kind
	}
	return s
}

// journalOutcomes is what a journal holds, without clocks.
func journalOutcomes(es []store.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%d %s app=%s %s %q warnings=%d", e.Seq, e.ID, e.App, e.Outcome(),
			clockInReason.ReplaceAllString(e.Reason, "<time>"), len(e.Warnings)))
	}
	return out
}
