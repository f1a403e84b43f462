package storetest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
)

// sendWant is what a case expects of the last of its sends. Reason may hold the verbs {app
// clock}, {second}, {day}, {opened} and {expires}, which the check fills from the result (a
// store with a clock of its own decides the time) and the seeded times.
type sendWant struct {
	Layer   smartappmock.Layer
	Code    int
	Reason  string
	Rule    string
	Warn    []string // kinds
	App     string
	Stopped bool
	Fault   string // "<owner>:<index> <kind> step <n>"
	// Journaled is whether the store appended the entry (no fault picked the send).
	Journaled bool
}

// The warning kinds of the table; each message is "warning <kind>".
const (
	warnUnissued     = "unissued_token"
	warnUnconfigured = "unconfigured_client"
	warnRule         = "rule"
	warnOpenOnFirst  = "open_on_first_send"
)

// sendWarnings are the warnings every case passes.
var sendWarnings = store.SendWarnings{
	UnissuedToken:      store.Warning{Kind: warnUnissued, Message: "warning " + warnUnissued},
	UnconfiguredClient: store.Warning{Kind: warnUnconfigured, Message: "warning " + warnUnconfigured},
	Rule:               store.Warning{Kind: warnRule, Message: "warning " + warnRule},
	OpenOnFirstSend:    store.Warning{Kind: warnOpenOnFirst, Message: "warning " + warnOpenOnFirst},
}

// sendCase is one outcome of Store.Send.
type sendCase struct {
	name string
	// seed changes the base seed; in changes the base input; sends is how many times the input is
	// sent (default 1); the last result is checked.
	seed  func(sd *store.Seed, now time.Time)
	in    func(in *store.SendInput)
	sends int
	want  sendWant
	// check, when set, checks the store after the sends.
	check func(t *testing.T, s store.Store, results []store.SendResult)
}

// runSend runs the outcome table of Store.Send: each outcome of today's decision order, its
// reason, rule, warnings and journal entry, and that a fault before the service counts nothing.
func runSend(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	gw, bz := smartappmock.LayerGateway, smartappmock.LayerBusiness
	verdict := func(l smartappmock.Layer, code int, reason, rule string, kinds ...string) *store.Verdict {
		v := &store.Verdict{Layer: l, Code: code, Reason: reason, Rule: rule}
		for _, k := range kinds {
			v.Warnings = append(v.Warnings, store.Warning{Kind: k, Message: "warning " + k})
		}
		return v
	}
	faults := func(fs ...config.Fault) func(*store.Seed, time.Time) {
		return func(sd *store.Seed, _ time.Time) { sd.Faults = fs }
	}
	rules := func(rs ...config.Rule) func(*store.Seed, time.Time) {
		return func(sd *store.Seed, _ time.Time) { sd.Rules = rs }
	}
	openOnFirst := func(in *store.SendInput) { in.Window.OpenOnFirst = true; in.Match.OpenID = "u-new" }
	okReply := func(n int) sendWant {
		return sendWant{Layer: bz, Code: 0, Reason: "window: reply " + strconv.Itoa(n) + " of 5", App: "a", Journaled: true}
	}
	cases := []sendCase{
		{name: "OK_UserWindow", want: okReply(1)},
		{name: "OK_OpenOnFirstSend_Warns", in: openOnFirst,
			want: sendWant{Layer: bz, Reason: "window: reply 1 of 5", Warn: []string{warnOpenOnFirst}, App: "a", Journaled: true}},
		{name: "OK_NotesOnlyOnRefusals", in: func(in *store.SendInput) { in.Notes = "; body: a note" }, want: okReply(1)},
		{name: "ErrNoUserMessage", in: func(in *store.SendInput) { in.Match.OpenID = "u-new" },
			want: sendWant{Layer: bz, Code: 90001, Reason: "window: no user message opened a window for this open_id (policy require_user_message)", App: "a", Journaled: true}},
		{name: "ErrWindowFull", sends: 6,
			want: sendWant{Layer: bz, Code: 90001, Reason: "window: 5 of 5 replies already sent in the window opened at {opened} (app clock)", App: "a", Journaled: true}},
		{name: "ErrWindowExpired", seed: func(sd *store.Seed, now time.Time) { sd.At = now.Add(-49 * time.Hour) },
			want: sendWant{Layer: bz, Code: 90001, Reason: "window: the window opened at {opened} expired at {expires} (app clock)", App: "a", Journaled: true}},
		{name: "ErrCapabilityOff", in: func(in *store.SendInput) { in.Token = "tok-off" },
			want: sendWant{Layer: bz, Code: 90002, Reason: "customer-service capability is off for app off", App: "off", Journaled: true}},
		{name: "ErrTokenNotIssued", in: func(in *store.SendInput) { in.Token = "nope" },
			want: sendWant{Layer: gw, Code: 110, Reason: "access_token: not issued by this fake (policy tokens: issued)", Journaled: true}},
		{name: "ErrRefreshToken", in: func(in *store.SendInput) { in.Token = "tok-refresh" },
			want: sendWant{Layer: gw, Code: 110, Reason: "access_token: this is a refresh token; send the access_token", Journaled: true}},
		{name: "ErrTokenExpired_KeepsTheApp", in: func(in *store.SendInput) { in.Token = "tok-expired" },
			want: sendWant{Layer: gw, Code: 111, Reason: "access_token: expired at {expires} (app clock {app clock})", App: "a", Journaled: true}},
		{name: "ErrAppGone", in: func(in *store.SendInput) { in.Token = "tok-gone" },
			want: sendWant{Layer: gw, Code: 110, Reason: "access_token: its app gone is gone", Journaled: true}},
		{name: "ErrBaiduShapedInSandbox", in: func(in *store.SendInput) { in.Token, in.Sandbox, in.BaiduShaped = "24.x", true, true },
			want: sendWant{Layer: gw, Code: 110, Reason: "access_token: has Baidu's shape but was not issued by this fake (stale from an earlier run?); get a new one", Journaled: true}},
		{name: "OK_SandboxTokenBecomesAnApp", in: func(in *store.SendInput) {
			openOnFirst(in)
			in.Token, in.Sandbox, in.SandboxApp = "anything", true, "token-abc"
		}, want: sendWant{Layer: bz, Reason: "window: reply 1 of 5", Warn: []string{warnUnissued, warnOpenOnFirst}, App: "token-abc", Journaled: true},
			check: func(t *testing.T, s store.Store, _ []store.SendResult) {
				a, ok, err := s.App(ctx, "token-abc")
				if err != nil || !ok || a.Source != "sandbox-token" || !a.Capability {
					t.Errorf("sandbox app = %+v %v %v, want a sandbox-token app with capability", a, ok, err)
				}
			}},
		{name: "OK_UnconfiguredClientWarns", in: func(in *store.SendInput) { openOnFirst(in); in.Token = "tok-sc" },
			want: sendWant{Layer: bz, Reason: "window: reply 1 of 5", Warn: []string{warnUnconfigured, warnOpenOnFirst}, App: "sc", Journaled: true}},
		{name: "TokenVerdict_WithLeadingWarnings", in: func(in *store.SendInput) {
			in.TokenVerdict = verdict(gw, 100, "magic access_token error_code_100", "magic:error_code_100", "magic_value")
			in.Warnings = []store.Warning{{Kind: "lenient_json", Message: "warning lenient_json"}}
		}, want: sendWant{Layer: gw, Code: 100, Reason: "magic access_token error_code_100", Rule: "magic:error_code_100", Warn: []string{"lenient_json", "magic_value"}, Journaled: true}},
		{name: "GatewayRule_FirstWithUsesLeft", sends: 2, seed: rules(
			config.Rule{Name: "other", Match: config.Match{OpenID: "u-other"}, Answer: config.Answer{ErrorCode: intp(18)}},
			config.Rule{Match: config.Match{App: "a", ContentContains: "i"}, Answer: config.Answer{ErrorCode: intp(17)}, Times: 2},
			config.Rule{Name: "g", Answer: config.Answer{ErrorCode: intp(18)}, Times: 1}),
			want: sendWant{Layer: gw, Code: 17, Reason: "rule rules[1]", Rule: "rules[1]", Warn: []string{warnRule}, App: "a", Journaled: true}},
		{name: "GatewayRule_UsedUpFallsToTheNext", sends: 2, seed: rules(
			config.Rule{Name: "once", Answer: config.Answer{ErrorCode: intp(17)}, Times: 1},
			config.Rule{Name: "then", Answer: config.Answer{ErrorCode: intp(18)}}),
			want: sendWant{Layer: gw, Code: 18, Reason: "rule then", Rule: "then", Warn: []string{warnRule}, App: "a", Journaled: true}},
		{name: "Invalid_BeforeBusinessRules", seed: rules(config.Rule{Name: "b", Answer: config.Answer{Errno: intp(90002)}}),
			in:   func(in *store.SendInput) { in.Invalid = verdict(bz, 3001, "open_id: missing", "") },
			want: sendWant{Layer: bz, Code: 3001, Reason: "open_id: missing", App: "a", Journaled: true},
			check: func(t *testing.T, s store.Store, _ []store.SendResult) {
				if cs, _ := s.Counters(ctx, store.NoApp); cs[store.RuleCounter(0)].Count != 0 {
					t.Errorf("the business rule was counted for an invalid send: %+v", cs)
				}
			}},
		{name: "BusinessRule_BeforeMagicOpenID", seed: rules(config.Rule{Answer: config.Answer{Errno: intp(90002)}}),
			in: func(in *store.SendInput) {
				in.Magic = verdict(bz, 30022, "magic open_id errno_30022", "magic:errno_30022", "magic_value")
			},
			want: sendWant{Layer: bz, Code: 90002, Reason: "rule rules[0]", Rule: "rules[0]", Warn: []string{warnRule}, App: "a", Journaled: true}},
		{name: "MagicOpenID_BeforeOpenIDs", in: func(in *store.SendInput) {
			in.Magic = verdict(bz, 30022, "magic open_id errno_30022", "magic:errno_30022", "magic_value")
			in.OpenIDs = map[string]store.Verdict{"a": *verdict(bz, 30022, "open_id: not a user of app a (open_ids)", "")}
		}, want: sendWant{Layer: bz, Code: 30022, Reason: "magic open_id errno_30022", Rule: "magic:errno_30022", Warn: []string{"magic_value"}, App: "a", Journaled: true}},
		{name: "OpenIDs_OfTheSendsApp", in: func(in *store.SendInput) {
			in.OpenIDs = map[string]store.Verdict{"a": *verdict(bz, 30022, "open_id: belongs to another mini program (foreign_open_ids)", "")}
		}, want: sendWant{Layer: bz, Code: 30022, Reason: "open_id: belongs to another mini program (foreign_open_ids)", App: "a", Journaled: true}},
		{name: "OpenIDs_OfAnotherAppIgnored", in: func(in *store.SendInput) {
			in.OpenIDs = map[string]store.Verdict{"b": *verdict(bz, 30022, "open_id: not a user of app b (open_ids)", "")}
		}, want: okReply(1)},
		{name: "Grant_RefusedForTheApp", in: func(in *store.SendInput) {
			in.Grant = &store.Grant{Refused: map[string]store.Verdict{"a": *verdict(bz, 90002, `platform "p": app a did not grant it the customer-service permission (apps[].platforms)`, "")}}
		}, want: sendWant{Layer: bz, Code: 90002, Reason: `platform "p": app a did not grant it the customer-service permission (apps[].platforms)`, App: "a", Journaled: true}},
		{name: "Grant_AfterCapability", in: func(in *store.SendInput) {
			in.Token = "tok-off"
			in.Grant = &store.Grant{Refused: map[string]store.Verdict{"off": *verdict(bz, 90003, "not granted", "")}}
		}, want: sendWant{Layer: bz, Code: 90002, Reason: "customer-service capability is off for app off", App: "off", Journaled: true}},
		{name: "Grant_WarningsCarriedToTheWindow", in: func(in *store.SendInput) {
			openOnFirst(in)
			in.Grant = &store.Grant{Warnings: []store.Warning{{Kind: "sandbox_platform", Message: "warning sandbox_platform"}}}
		}, want: sendWant{Layer: bz, Reason: "window: reply 1 of 5", Warn: []string{"sandbox_platform", warnOpenOnFirst}, App: "a", Journaled: true}},
		{name: "Grant_WarningsOnAWindowRefusal", in: func(in *store.SendInput) {
			in.Match.OpenID = "u-new"
			in.Grant = &store.Grant{Warnings: []store.Warning{{Kind: "sandbox_platform", Message: "warning sandbox_platform"}}}
		}, want: sendWant{Layer: bz, Code: 90001, Reason: "window: no user message opened a window for this open_id (policy require_user_message)", Warn: []string{"sandbox_platform"}, App: "a", Journaled: true}},
		{name: "FaultPlan_PhaseOfThePlan", seed: faults(config.Fault{Kind: config.FaultTruncated, Phase: config.FaultPhaseBefore}),
			want: sendWant{App: "a", Stopped: true, Fault: ":0 truncated step 0"}},
		{name: "DailyLimit_PerConfiguredApp", sends: 3, in: func(in *store.SendInput) {
			in.Limits = &store.LimitTable{Apps: map[string]config.Limits{"a": {Daily: 2}}, Default: config.Limits{Daily: 100}}
		}, want: sendWant{Layer: gw, Code: 17, Reason: "daily limit: 2 of 2 requests used on {day} (Beijing time, app clock)", App: "a", Journaled: true}},
		{name: "DailyLimit_DefaultForOtherApps", sends: 2, in: func(in *store.SendInput) {
			in.Limits = &store.LimitTable{Apps: map[string]config.Limits{"b": {Daily: 100}}, Default: config.Limits{Daily: 1}}
		}, want: sendWant{Layer: gw, Code: 17, Reason: "daily limit: 1 of 1 requests used on {day} (Beijing time, app clock)", App: "a", Journaled: true}},
		{name: "QPSLimit_OnTheAppsSecond", sends: 3, in: func(in *store.SendInput) {
			in.Limits = &store.LimitTable{Default: config.Limits{QPS: 1}}
		}, check: func(t *testing.T, _ store.Store, rs []store.SendResult) {
			refused := 0
			for _, r := range rs[1:] { // three sends within a few milliseconds: at most one new second
				if r.Code == 18 {
					refused++
					want := "qps limit: 1 of 1 requests used in second " + strconv.FormatInt(r.AppTime.Unix(), 10) + " (app clock); body: a note"
					if r.Layer != smartappmock.LayerGateway || r.Reason != want || r.Seq == 0 {
						t.Errorf("refusal %+v, want %q journaled", r, want)
					}
				}
			}
			if refused == 0 {
				t.Errorf("no send refused by a QPS limit of 1: %+v", rs)
			}
		}},
		{name: "FaultPlan_AfterCountsAndIsNotJournaled", seed: faults(config.Fault{Kind: config.FaultTruncated}),
			want: sendWant{Layer: bz, Reason: "window: reply 1 of 5", App: "a", Fault: ":0 truncated step 0"},
			check: func(t *testing.T, s store.Store, _ []store.SendResult) {
				if ws, _ := s.Windows(ctx, "a"); len(ws) != 1 || ws[0].Replies != 1 {
					t.Errorf("windows %+v, want the reply counted", ws)
				}
			}},
		{name: "FaultPlan_BeforeStopsNothingCounted", seed: faults(config.Fault{Kind: config.FaultHTTP503}),
			in:   func(in *store.SendInput) { in.Limits = &store.LimitTable{Default: config.Limits{QPS: 100, Daily: 100}} },
			want: sendWant{App: "a", Stopped: true, Fault: ":0 http_503 step 0"},
			check: func(t *testing.T, s store.Store, _ []store.SendResult) {
				ws, _ := s.Windows(ctx, "a")
				cs, _ := s.Counters(ctx, "a")
				if len(ws) != 1 || ws[0].Replies != 0 || len(cs) != 0 {
					t.Errorf("windows %+v counters %+v, want nothing counted", ws, cs)
				}
			}},
		{name: "FaultPlan_SequenceNoneLetsThrough", sends: 2, seed: faults(config.Fault{Sequence: []config.FaultKind{config.FaultHTTP503, config.FaultNone, config.FaultMalformed}}),
			want: okReply(1)},
		{name: "FaultPlan_SequenceThirdStep", sends: 3, seed: faults(config.Fault{Sequence: []config.FaultKind{config.FaultHTTP503, config.FaultNone, config.FaultMalformed}}),
			want: sendWant{Layer: bz, Reason: "window: reply 2 of 5", App: "a", Fault: ":0 malformed step 2"}},
		{name: "FaultPlan_AppsBeforeTopLevel", seed: func(sd *store.Seed, _ time.Time) {
			sd.Faults = []config.Fault{{Kind: config.FaultMalformed}}
			sd.AppFaults = map[string][]config.Fault{"a": {{Match: config.Match{OpenID: "u-other"}, Kind: config.FaultDrip}, {Kind: config.FaultTruncated}}}
		}, want: sendWant{Layer: bz, Reason: "window: reply 1 of 5", App: "a", Fault: "a:1 truncated step 0"},
			check: func(t *testing.T, s store.Store, _ []store.SendResult) {
				f, _ := s.Faults(ctx)
				got, _ := s.FaultCounts(ctx, f.Version)
				want := map[store.PlanID]store.FaultCount{{App: "a", Index: 1}: {Matched: 1, Injected: 1}}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("fault counts (-want +got):\n%s", diff)
				}
			}},
		{name: "FaultPlan_SkipAndTimes", sends: 3, seed: faults(config.Fault{Kind: config.FaultTruncated, Skip: 1, Times: 1}),
			want: okReply(3)},
		{name: "FaultPlan_LatencyDrawn", seed: faults(config.Fault{Latency: config.LatencyRange{Min: time.Millisecond, Max: time.Second}, Seed: 42}),
			want: sendWant{Layer: bz, Reason: "window: reply 1 of 5", App: "a", Fault: ":0  step 0"},
			check: func(t *testing.T, _ store.Store, rs []store.SendResult) {
				f := rs[0].Fault
				if want := store.FaultLatency(&f.Fault, 1); f.Latency != want || want == time.Millisecond {
					t.Errorf("latency %v, want %v drawn in the range", f.Latency, want)
				}
			}},
		{name: "FaultPlan_ProbabilityDrawsBySeed", sends: 12, seed: faults(config.Fault{Kind: config.FaultTruncated, Probability: 0.5, Seed: 7}),
			in: openOnFirst,
			check: func(t *testing.T, _ store.Store, rs []store.SendResult) {
				c := store.FaultCount{}
				for i, r := range rs {
					want := store.DecideFault(&c, store.FaultPolicy{Probability: 0.5, Seed: 7}).Injected
					if got := r.Fault != nil; got != want {
						t.Errorf("send %d: faulted %v, want %v", i+1, got, want)
					}
				}
			}},
		{name: "FaultPlan_CountsOnATokenRefusal", seed: faults(config.Fault{Kind: config.FaultHTTP503}),
			in:   func(in *store.SendInput) { in.Token = "nope" },
			want: sendWant{Layer: gw, Code: 110, Reason: "access_token: not issued by this fake (policy tokens: issued)", Fault: ":0 http_503 step 0"}},
		{name: "MagicFault_BeforeStops", seed: faults(config.Fault{Kind: config.FaultTruncated}),
			in:   func(in *store.SendInput) { in.MagicFault = config.FaultPhaseBefore },
			want: sendWant{App: "a", Stopped: true},
			check: func(t *testing.T, s store.Store, _ []store.SendResult) {
				f, _ := s.Faults(ctx)
				if got, _ := s.FaultCounts(ctx, f.Version); len(got) != 0 {
					t.Errorf("a magic fault counted plans: %+v", got)
				}
			}},
		{name: "MagicFault_AfterCountsNotJournaled", in: func(in *store.SendInput) { in.MagicFault = config.FaultPhaseAfter },
			want: sendWant{Layer: bz, Reason: "window: reply 1 of 5", App: "a"}},
	}
	for _, tc := range cases {
		t.Run("Send_"+tc.name, func(t *testing.T) {
			s := newStore(t)
			now := time.Now()
			sd := store.Seed{
				At: now.Add(-time.Hour),
				Apps: []store.App{{ID: "a", Source: "config", Capability: true}, {ID: "off", Source: "config"},
					{ID: "sc", Source: "sandbox-client", Capability: true}},
				Tokens: []store.Token{{Value: "tok-a", App: "a"}, {Value: "tok-off", App: "off"}, {Value: "tok-sc", App: "sc"},
					{Value: "tok-gone", App: "gone"}, {Value: "tok-refresh", App: "a", Refresh: true, Issued: now.Add(-2 * time.Hour), Expires: now.Add(time.Hour)},
					{Value: "tok-expired", App: "a", Issued: now.Add(-2 * time.Hour), Expires: now.Add(-time.Hour).Round(time.Millisecond)}},
				Windows: []store.SeedWindow{{App: "a", OpenID: "u"}},
			}
			if tc.seed != nil {
				tc.seed(&sd, now)
			}
			if err := s.Seed(ctx, sd); err != nil {
				t.Fatal(err)
			}
			n := max(tc.sends, 1)
			var rs []store.SendResult
			for i := range n {
				in := store.SendInput{Now: time.Now(), Token: "tok-a", Match: store.SendMatch{Token: "tok-a", OpenID: "u", MsgType: "text", Content: "hi"},
					Limits: &store.LimitTable{}, Warn: sendWarnings,
					Window: store.WindowRule{Duration: 48 * time.Hour, MaxReplies: 5}, Notes: "; body: a note",
					Entry: store.Entry{ID: fmt.Sprint(tc.name, "-", i), Time: now, AppTime: now, Endpoint: "send", Method: "POST", Path: smartappmock.SendPath,
						Params: []store.Param{{Name: "open_id", Value: "u", Source: "body", Used: true}}, OpenID: "u", MsgType: "text", Status: 200}}
				if tc.in != nil {
					tc.in(&in)
				}
				in.Match.Token = in.Token
				r, err := s.Send(ctx, in)
				if err != nil {
					t.Fatalf("send %d: %v", i+1, err)
				}
				rs = append(rs, r)
			}
			if tc.want.Layer != "" || tc.want.Stopped {
				checkSend(t, s, sd, rs[len(rs)-1], fmt.Sprint(tc.name, "-", n-1), tc.want)
			}
			if tc.check != nil {
				tc.check(t, s, rs)
			}
		})
	}
}

// checkSend compares a result and its journal entry with want.
func checkSend(t *testing.T, s store.Store, sd store.Seed, r store.SendResult, id string, want sendWant) {
	t.Helper()
	loc := r.AppTime.Location()
	reason := strings.NewReplacer(
		"{app clock}", r.AppTime.Format(time.RFC3339),
		"{second}", strconv.FormatInt(r.AppTime.Unix(), 10),
		"{day}", r.AppTime.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02"),
		"{opened}", sd.At.In(loc).Format(time.RFC3339),
		"{expires}", expires(sd, want).In(loc).Format(time.RFC3339),
	).Replace(want.Reason)
	if want.Code != 0 {
		reason += "; body: a note" // every case's notes, after a refusal's reason
	}
	var kinds []string
	for _, w := range r.Warnings {
		kinds = append(kinds, w.Kind)
	}
	fault := ""
	if f := r.Fault; f != nil {
		fault = fmt.Sprintf("%s:%d %s step %d", f.Plan.App, f.Plan.Index, f.Kind, f.Take.Step)
	}
	got := sendWant{Layer: r.Layer, Code: r.Code, Reason: r.Reason, Rule: r.Rule, Warn: kinds, App: r.App, Stopped: r.Stopped, Fault: fault, Journaled: r.Seq != 0}
	want.Reason = reason
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Send() mismatch (-want +got):\n%s", diff)
	}
	es, err := s.Journal(context.Background(), store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if !want.Journaled {
		for _, e := range es {
			if e.ID == id {
				t.Errorf("entry journaled for a send a fault picked: %+v", e)
			}
		}
		return
	}
	if len(es) == 0 || es[0].Seq != r.Seq {
		t.Fatalf("the newest entry is not seq %d: %d entries", r.Seq, len(es))
	}
	e := es[0]
	if e.App != r.App || e.Layer != r.Layer || e.Code != r.Code || e.Reason != r.Reason || e.Rule != r.Rule || !e.AppTime.Equal(r.AppTime) {
		t.Errorf("entry %+v does not hold the result %+v", e, r)
	}
	if diff := cmp.Diff(r.Warnings, e.Warnings); diff != "" {
		t.Errorf("entry warnings (-result +entry):\n%s", diff)
	}
	if e.ID == "" || e.Endpoint != "send" || len(e.Params) != 1 || e.Status != 200 {
		t.Errorf("entry lost its template: %+v", e)
	}
}

// expires is the time a case's reason names as {expires}: the expired token's expiry, or the
// window's end.
func expires(sd store.Seed, want sendWant) time.Time {
	if want.Code == 111 {
		for _, t := range sd.Tokens {
			if t.Value == "tok-expired" {
				return t.Expires
			}
		}
	}
	return sd.At.Add(48 * time.Hour)
}
