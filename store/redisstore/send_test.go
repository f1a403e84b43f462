package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/redisstore/internal/script"
)

// sendInput is a valid send of app a's configured token to user u.
func sendInput(now time.Time) store.SendInput {
	return store.SendInput{Now: now, Token: "tok-a", Match: store.SendMatch{Token: "tok-a", OpenID: "u", MsgType: "text", Content: "hi"},
		Limits: &store.LimitTable{Default: config.Limits{QPS: 100, Daily: 1000}},
		Window: store.WindowRule{Duration: 48 * time.Hour, MaxReplies: 5, OpenOnFirst: true},
		Entry:  store.Entry{ID: "req", Endpoint: "send", Params: []store.Param{}, Status: 200}}
}

// bothRedis opens a store on a miniredis and one on a real redis-server (skipped without one,
// failing under CI=true).
func bothRedis() []struct {
	name string
	open func(t *testing.T) *Store
} {
	return []struct {
		name string
		open func(t *testing.T) *Store
	}{
		{"Miniredis", func(t *testing.T) *Store { s, _ := miniT(t, Options{}); return s }},
		{"RedisServer", func(t *testing.T) *Store { return openT(t, realRedisURL(t), Options{Prefix: testPrefix()}) }},
	}
}

// TestSend_OneRoundTrip counts the commands of each kind of send with a go-redis hook: one
// EVALSHA, whatever the outcome, a new sandbox app included (the first use, which loads the
// script with EVAL, is not counted).
func TestSend_OneRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, tc := range bothRedis() {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.open(t)
			err := s.Seed(ctx, store.Seed{At: time.Now(), Apps: []store.App{{ID: "a", Source: "config", Capability: true}},
				Tokens: []store.Token{{Value: "tok-a", App: "a"}},
				Rules:  []config.Rule{{Name: "r", Match: config.Match{OpenID: "u-rule"}, Answer: config.Answer{Errno: intp(90002)}}},
				Faults: []config.Fault{{Match: config.Match{OpenID: "u-fault"}, Kind: config.FaultHTTP503}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Send(ctx, sendInput(time.Now())); err != nil { // loads the script
				t.Fatal(err)
			}
			rec := &recorder{}
			s.rdb.AddHook(rec)
			for _, c := range []struct {
				name string
				in   func(in *store.SendInput)
			}{
				{"Success", func(*store.SendInput) {}},
				{"NewSandboxApp", func(in *store.SendInput) { in.Token, in.Sandbox, in.SandboxApp = "fresh", true, "token-fresh" }},
				{"TokenRefused", func(in *store.SendInput) { in.Token = "unknown" }},
				{"RuleAnswers", func(in *store.SendInput) { in.Match.OpenID = "u-rule" }},
				{"FaultBeforeTheService", func(in *store.SendInput) { in.Match.OpenID = "u-fault" }},
				{"WindowFull", func(in *store.SendInput) { in.Window.MaxReplies = 0 }},
			} {
				rec.reset()
				in := sendInput(time.Now())
				c.in(&in)
				in.Match.Token = in.Token
				if _, err := s.Send(ctx, in); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if diff := cmp.Diff([]string{"evalsha"}, rec.sent); diff != "" {
					t.Errorf("%s: round trips (-want +got):\n%s", c.name, diff)
				}
			}
		})
	}
}

func intp(v int) *int { return &v }

// TestSend_ClockIsRedisTimePlusTheAppsOffset gives the server a clock a year off: the app's
// clock, the window and the journal follow Redis's TIME (plus the app's offset) instead.
func TestSend_ClockIsRedisTimePlusTheAppsOffset(t *testing.T) {
	ctx := context.Background()
	s, m := miniT(t, Options{})
	redisNow := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	m.SetTime(redisNow)
	if err := s.Seed(ctx, store.Seed{At: redisNow, Apps: []store.App{{ID: "a", Source: "config", Capability: true}},
		Tokens: []store.Token{{Value: "tok-a", App: "a"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateApp(ctx, "a", nil, 90*time.Minute); err != nil {
		t.Fatal(err)
	}
	skewed := redisNow.AddDate(1, 0, 0) // a replica whose clock is a year ahead
	r, err := s.Send(ctx, sendInput(skewed))
	if err != nil {
		t.Fatal(err)
	}
	want := redisNow.Add(90 * time.Minute)
	if !r.AppTime.Equal(want) {
		t.Errorf("app time %v, want Redis TIME plus the offset %v", r.AppTime, want)
	}
	ws, _ := s.Windows(ctx, "a")
	if len(ws) != 1 || !ws[0].OpenedAt.Equal(want) {
		t.Errorf("windows %+v, want one opened at %v", ws, want)
	}
	es, _ := s.Journal(ctx, store.Query{App: "a"})
	if len(es) != 1 || !es[0].AppTime.Equal(want) {
		t.Errorf("journal %+v, want the app time %v", es, want)
	}
}

// TestSend_PlansOfAnEarlierVersionAreCompiled drops the compiled plans, as a store written by an
// earlier version has them: the first send compiles them and the plan picks it.
func TestSend_PlansOfAnEarlierVersionAreCompiled(t *testing.T) {
	ctx := context.Background()
	s, _ := miniT(t, Options{})
	if err := s.Seed(ctx, store.Seed{At: time.Now(), Apps: []store.App{{ID: "a", Source: "config", Capability: true}},
		Tokens:    []store.Token{{Value: "tok-a", App: "a"}},
		AppFaults: map[string][]config.Fault{"a": {{Kind: config.FaultTruncated}}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.HDel(ctx, s.plans, "fcg", "fca").Err(); err != nil {
		t.Fatal(err)
	}
	r, err := s.Send(ctx, sendInput(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if r.Fault == nil || r.Fault.Plan != (store.PlanID{App: "a"}) || r.Fault.Kind != config.FaultTruncated {
		t.Errorf("fault %+v, want app a's plan 0 (truncated)", r.Fault)
	}
}

// TestLuaString_RoundTripsThroughLua pins that the constants written into the send script's text
// (the warnings' wording, the key prefix) reach Lua byte for byte: quotes, backslashes, control
// bytes, UTF-8, and a digit right after an escape.
func TestLuaString_RoundTripsThroughLua(t *testing.T) {
	s, _ := miniT(t, Options{})
	for _, in := range []string{"", "plain", `say "hi"`, `back\slash`, "new\nline\ttab", "窗口：回复", "\x01" + "7 after an escape", "\x7f\xff"} {
		got, err := redis.NewScript("return "+script.LuaString(in)).Run(context.Background(), s.rdb, nil).Text()
		if err != nil || got != in {
			t.Errorf("script.LuaString(%q) read back as %q (%v)", in, got, err)
		}
	}
}

// TestSendArgs_SendArityEach: every send gives the send script exactly script.SendArity
// arguments, which is how the script and internal/batch find where each send's arguments begin.
func TestSendArgs_SendArityEach(t *testing.T) {
	s, _ := miniT(t, Options{})
	in := sendInput(time.Now())
	in.Invalid = &store.Verdict{Layer: "business", Code: 3001, Reason: "open_id missing"}
	for _, in := range []store.SendInput{sendInput(time.Now()), in} {
		pre, err := preArg(&in)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(s.sendArgs(&in, pre, []byte("{}"))); n != script.SendArity {
			t.Errorf("%d arguments, want script.SendArity (%d)", n, script.SendArity)
		}
	}
}

// TestAppNow_RedisTimePlusTheAppsOffset: the store's clock (store.Clock) is Redis's TIME plus
// the app's offset, whatever the asking server's clock says.
func TestAppNow_RedisTimePlusTheAppsOffset(t *testing.T) {
	s, m := miniT(t, Options{})
	at := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
	m.SetTime(at)
	got, err := s.AppNow(context.Background(), store.App{ID: "a", ClockOffset: 90 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if want := at.Add(90 * time.Minute); !got.Equal(want) {
		t.Errorf("AppNow = %s, want %s", got, want)
	}
}
