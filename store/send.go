package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
)

// Verdict is a decision of a send: the layer and code of the envelope, why, the rule or magic
// value that forced it, and the ways the answer differs from Baidu's.
type Verdict struct {
	Layer    smartappmock.Layer
	Code     int
	Reason   string
	Rule     string
	Warnings []Warning
}

// SendMatch is what rules and fault plans match a send on (the app is the one the token
// resolves to).
type SendMatch struct {
	Token, OpenID, MsgType, Content string
}

// Matches reports whether a rule's or fault plan's match m selects the send of app.
func (in *SendMatch) Matches(app string, m *config.Match) bool {
	return (m.App == "" || m.App == app) && (m.Token == "" || m.Token == in.Token) &&
		(m.OpenID == "" || m.OpenID == in.OpenID) && (m.MsgType == "" || m.MsgType == in.MsgType) &&
		(m.Content == "" || m.Content == in.Content) &&
		(m.ContentContains == "" || strings.Contains(in.Content, m.ContentContains))
}

// LimitTable holds the QPS and daily limits of a send's app: each configured app's (already
// merged with the policy), and the policy's for any other app. A server builds it once.
type LimitTable struct {
	// Apps are the limits of the configured apps.
	Apps map[string]config.Limits
	// Default are the limits of every other app (sandbox apps): the policy's.
	Default config.Limits

	once sync.Once
	enc  string
}

// For returns the limits of app.
func (t *LimitTable) For(app string) config.Limits {
	if t == nil {
		return config.Limits{}
	}
	if l, ok := t.Apps[app]; ok {
		return l
	}
	return t.Default
}

// Encoded renders the table once for a store script: "<qps> <daily>" of the default, then
// " <app> <qps> <daily>" for each configured app whose limits differ from it. App ids never hold
// spaces (they come from the configuration, whose parser refuses them).
func (t *LimitTable) Encoded() string {
	if t == nil {
		return "0 0"
	}
	t.once.Do(func() {
		var b strings.Builder
		b.WriteString(strconv.Itoa(t.Default.QPS) + " " + strconv.Itoa(t.Default.Daily))
		for id, l := range t.Apps {
			if l != t.Default {
				b.WriteString(" " + id + " " + strconv.Itoa(l.QPS) + " " + strconv.Itoa(l.Daily))
			}
		}
		t.enc = b.String()
	})
	return t.enc
}

// SendInput is what a send brings to Store.Send: the stateless parts the server decided already,
// and what the store needs to decide the rest.
type SendInput struct {
	// Now is the server's clock. A store with a clock of its own (Redis: TIME) uses that instead,
	// so replicas' clock skew cannot matter; the app's clock is either plus the app's offset.
	Now time.Time
	// Token is the access token. TokenVerdict, when set, is the token's decision already (no
	// token, a magic token): the store looks nothing up and the send has no app.
	Token        string
	TokenVerdict *Verdict
	// Sandbox is whether an unknown token becomes an app of its own (policy tokens: sandbox),
	// SandboxApp that app's id and BaiduShaped whether the token has the shape of Baidu's.
	Sandbox     bool
	SandboxApp  string
	BaiduShaped bool
	// Match is what rules and fault plans match on.
	Match SendMatch
	// MagicFault is the phase (config.FaultPhaseBefore or FaultPhaseAfter) of the fault a magic
	// open_id picked; empty: none, and the fault plans are asked. A plan's phase is its
	// config.Fault.PhaseFor the kind it injects.
	MagicFault string
	// Limits are the QPS and daily limits by app.
	Limits *LimitTable
	// Invalid is the decision of a send that openapi.yaml (or UTF-8) refuses: errno 3001,
	// before the business rules.
	Invalid *Verdict
	// Magic is the decision of a magic open_id, after the business rules.
	Magic *Verdict
	// OpenIDs are the decisions of a configured app that does not know the open_id
	// (foreign_open_ids, open_ids), after the magic open_id.
	OpenIDs map[string]Verdict
	// Grant, for a send on sendbytp, is the platform's grant: after capability, before the window.
	Grant *Grant
	// Window is the window rule in force.
	Window WindowRule
	// Warn are the warnings the store gives, as the server words them.
	Warn SendWarnings
	// Warnings come first in the verdict's warnings (e.g. lenient_json).
	Warnings []Warning
	// Notes ("; note; note") follow the reason of an answer that is not a success.
	Notes string
	// Entry is the journal entry without its decision: the store writes in the app, the app's
	// time and the verdict, and appends it unless a fault picked the send.
	Entry Entry
}

// SendWarnings are the warnings Store.Send may give, as the server words them: the store decides
// only whether each applies.
type SendWarnings struct {
	// UnissuedToken: the token's app is a sandbox app it made (source "sandbox-token").
	UnissuedToken Warning
	// UnconfiguredClient: the token's app was issued to an unconfigured client ("sandbox-client").
	UnconfiguredClient Warning
	// Rule: a rule decided the answer.
	Rule Warning
	// OpenOnFirstSend: the window was opened by a send, not by a user message.
	OpenOnFirstSend Warning
}

// Grant is a third-party platform's customer-service grant for a send on sendbytp: the warnings
// of a send that passes (an unconfigured platform), and the verdict of each configured app that
// did not grant it.
type Grant struct {
	Warnings []Warning
	Refused  map[string]Verdict
}

// PickedFault is the fault plan that picked a send.
type PickedFault struct {
	// Plan names the plan; Fault is its definition (as the store held it).
	Plan  PlanID
	Fault config.Fault
	// Take is the plan's count for this send.
	Take FaultTake
	// Kind is the kind of this injection (the sequence's step) and Latency its delay.
	Kind    config.FaultKind
	Latency time.Duration
}

// SendResult is what Store.Send decided.
type SendResult struct {
	// Verdict is the decision (zero when Stopped).
	Verdict
	// App is the app the send is charged to ("" when none could be told) and AppTime the app's
	// clock the store used.
	App     string
	AppTime time.Time
	// Fault is the fault plan that picked the send, if any.
	Fault *PickedFault
	// Stopped is whether a fault that strikes before the service (a plan's or the magic
	// open_id's) ended the decision: nothing was counted, and the caller words the verdict.
	Stopped bool
	// Seq is the journal sequence number of the entry; 0 when the store did not append it
	// (a fault picked the send: the caller appends it once the fault is delivered).
	Seq uint64
}

// latencySalt separates the draws of a plan's latency from those of its probability.
const latencySalt = 0x5bd1e995

// FaultStep returns the kind and latency of a plan's injection: the sequence's step (or the
// plan's kind) and the latency drawn for its matched count.
func FaultStep(f *config.Fault, t FaultTake) (config.FaultKind, time.Duration) {
	kind := f.Kind
	if len(f.Sequence) > 0 {
		kind = f.Sequence[t.Step]
	}
	return kind, FaultLatency(f, t.Matched)
}

// FaultLatency returns the latency of a plan for its matched-th matching send: Min, plus a draw
// within the range.
func FaultLatency(f *config.Fault, matched int) time.Duration {
	lat := f.Latency.Min
	if f.Latency.Max > f.Latency.Min {
		span := float64(f.Latency.Max - f.Latency.Min + 1)
		lat += time.Duration(Draw(LatencySeed(f.Seed), uint64(matched)) * span)
	}
	return lat
}

// LatencySeed is the seed of a plan's latency draws.
func LatencySeed(seed uint64) uint64 { return seed ^ latencySalt }

// RuleLabel is how a rule is named in the journal and the reason header.
func RuleLabel(r config.Rule, i int) string {
	if r.Name != "" {
		return r.Name
	}
	return "rules[" + strconv.Itoa(i) + "]"
}

// beijing is the time zone of the real service's daily limits (UTC+8, no DST).
var beijing = time.FixedZone("CST", 8*3600)

// SendSteps is the stateful part of a send, in order, composed of the store's own atomic
// operations: the one Go definition of Store.Send (the in-memory store's), which a store
// without scripts can use too. Each step is atomic, the whole is not (a Redis store runs the
// same order as one script). The order, as today's decideSend:
//
//  1. the token (TokenVerdict, else issued or configured; refresh; expiry on the app's clock;
//     a sandbox app for an unknown token when the policy allows);
//  2. the fault plans (the app's, then the top-level ones; the magic open_id's instead), and a
//     token refusal ends here;
//  3. a fault that strikes before the service ends here, nothing counted;
//  4. gateway rules (the first that matches with uses left), the QPS limit, the daily limit;
//  5. business: Invalid, business rules, Magic, OpenIDs, capability, the platform's Grant,
//     the window;
//  6. the journal entry, unless a fault picked the send.
func SendSteps(ctx context.Context, s Store, in SendInput) (SendResult, error) {
	res := SendResult{AppTime: in.Now}
	res.Warnings = in.Warnings[:len(in.Warnings):len(in.Warnings)] // appends copy
	app, tv, refused, err := sendToken(ctx, s, &in, &res)
	if err != nil {
		return SendResult{}, err
	}
	if in.MagicFault == "" {
		if res.Fault, err = sendFaults(ctx, s, &in, res.App); err != nil {
			return SendResult{}, err
		}
	}
	if refused {
		res.setVerdict(tv, in.Notes)
		return res, appendSend(ctx, s, &in, &res)
	}
	before := in.MagicFault == config.FaultPhaseBefore
	if f := res.Fault; f != nil {
		before = f.Fault.PhaseFor(f.Kind) == config.FaultPhaseBefore
	}
	if before {
		res.Stopped = true
		return res, nil
	}
	v, err := sendDecide(ctx, s, &in, app, res.AppTime)
	if err != nil {
		return SendResult{}, err
	}
	res.setVerdict(v, in.Notes)
	return res, appendSend(ctx, s, &in, &res)
}

// setVerdict writes v into r after r's warnings, with the notes after the reason of a refusal.
func (r *SendResult) setVerdict(v Verdict, notes string) {
	w := v.Warnings
	if len(r.Warnings) > 0 {
		w = append(r.Warnings, v.Warnings...)
	}
	r.Verdict = v
	r.Warnings = w
	if notes != "" && v.Code != 0 {
		r.Reason += notes
	}
}

// FillEntry writes the decision of r into e: the app, its clock and the verdict.
func (r *SendResult) FillEntry(e *Entry) {
	e.App, e.AppTime = r.App, r.AppTime
	e.Layer, e.Code, e.Reason, e.Rule, e.Warnings = r.Layer, r.Code, r.Reason, r.Rule, r.Warnings
}

// appendSend journals the entry of a send that no fault picked.
func appendSend(ctx context.Context, s Store, in *SendInput, r *SendResult) error {
	if r.Fault != nil || in.MagicFault != "" {
		return nil
	}
	r.FillEntry(&in.Entry)
	seq, err := s.Append(ctx, in.Entry)
	r.Seq = seq
	return err
}

// gatewayVerdict and businessVerdict build verdicts of their layer.
func gatewayVerdict(code int, reason string) Verdict {
	return Verdict{Layer: smartappmock.LayerGateway, Code: code, Reason: reason}
}

func businessVerdict(code int, reason string) Verdict {
	return Verdict{Layer: smartappmock.LayerBusiness, Code: code, Reason: reason}
}

// sendToken resolves the token (step 1): the app and, when the token is refused, the verdict.
// It sets r's app, app time and token warnings; refused says whether v is the token's refusal.
func sendToken(ctx context.Context, s Store, in *SendInput, r *SendResult) (app App, v Verdict, refused bool, err error) {
	if in.TokenVerdict != nil {
		return App{}, *in.TokenVerdict, true, nil
	}
	tok, found, err := s.Token(ctx, in.Token)
	if err != nil {
		return App{}, Verdict{}, false, err
	}
	switch {
	case found && !tok.Refresh:
		var ok bool
		if app, ok, err = s.App(ctx, tok.App); err != nil {
			return App{}, Verdict{}, false, err
		}
		if !ok {
			return App{}, gatewayVerdict(smartappmock.CodeInvalidAccessToken, "access_token: its app "+tok.App+" is gone"), true, nil
		}
		r.App, r.AppTime = app.ID, app.Now(in.Now)
		if !tok.Expires.IsZero() && !r.AppTime.Before(tok.Expires) {
			// The entry keeps the app and its clock, so the app's journal and inbox show the expiry.
			return app, gatewayVerdict(smartappmock.CodeAccessTokenExpired, fmt.Sprintf("access_token: expired at %s (app clock %s)", tok.Expires.Format(time.RFC3339), r.AppTime.Format(time.RFC3339))), true, nil
		}
	case found:
		return App{}, gatewayVerdict(smartappmock.CodeInvalidAccessToken, "access_token: this is a refresh token; send the access_token"), true, nil
	case !in.Sandbox:
		return App{}, gatewayVerdict(smartappmock.CodeInvalidAccessToken, "access_token: not issued by this fake (policy tokens: issued)"), true, nil
	case in.BaiduShaped:
		// A token of Baidu's shape that this fake did not issue is stale (an earlier run, another
		// fake) or forged: the real service answers 110, so a sandbox must too, or a client that
		// never refreshes would pass here and fail against Baidu.
		return App{}, gatewayVerdict(smartappmock.CodeInvalidAccessToken, "access_token: has Baidu's shape but was not issued by this fake (stale from an earlier run?); get a new one"), true, nil
	default:
		if app, _, err = s.RegisterApp(ctx, App{ID: in.SandboxApp, Source: "sandbox-token", Capability: true}); err != nil {
			return App{}, Verdict{}, false, err
		}
		r.App, r.AppTime = app.ID, app.Now(in.Now)
	}
	switch app.Source {
	case "sandbox-token":
		r.Warnings = append(r.Warnings, in.Warn.UnissuedToken)
	case "sandbox-client":
		r.Warnings = append(r.Warnings, in.Warn.UnconfiguredClient)
	}
	return app, Verdict{}, false, nil
}

// sendFaults counts the send toward the matching fault plans (step 2): the app's, then the
// top-level ones; the first that injects picks the send. A plan whose step is "none" with no
// latency lets the send through (it still counted).
func sendFaults(ctx context.Context, s Store, in *SendInput, app string) (*PickedFault, error) {
	fs, err := s.Faults(ctx)
	if err != nil || fs.Empty() {
		return nil, err
	}
	if app != "" {
		if p, err := takeFaults(ctx, s, in, fs.Version, app, app, fs.Apps[app]); p != nil || err != nil {
			return p, err
		}
	}
	return takeFaults(ctx, s, in, fs.Version, app, "", fs.Global)
}

// takeFaults counts the send of app toward the matching plans of owner ("": the top-level ones).
func takeFaults(ctx context.Context, s Store, in *SendInput, v uint64, app, owner string, plans []config.Fault) (*PickedFault, error) {
	for i := range plans {
		f := &plans[i]
		if !in.Match.Matches(app, &f.Match) {
			continue
		}
		tk, err := s.TakeFault(ctx, v, PlanID{App: owner, Index: i}, FaultPolicy{
			Skip: f.Skip, Times: f.Times, Steps: len(f.Sequence), Probability: f.Probability, Seed: f.Seed,
		})
		if err != nil {
			return nil, err
		}
		if !tk.Injected {
			continue
		}
		kind, lat := FaultStep(f, tk)
		if kind == config.FaultNone && lat == 0 {
			continue
		}
		return &PickedFault{Plan: PlanID{App: owner, Index: i}, Fault: *f, Take: tk, Kind: kind, Latency: lat}, nil
	}
	return nil, nil
}

// sendDecide is the rest of the decision (steps 4 and 5): gateway rules, QPS and daily limits,
// then the business layer.
func sendDecide(ctx context.Context, s Store, in *SendInput, app App, appNow time.Time) (Verdict, error) {
	rules, err := s.Rules(ctx)
	if err != nil {
		return Verdict{}, err
	}
	// Gateway rules, then limits (QPS first: a request refused for QPS does not count toward the day).
	if v, ok, err := takeRule(ctx, s, in, app.ID, rules, smartappmock.LayerGateway); ok || err != nil {
		return v, err
	}
	limits := in.Limits.For(app.ID)
	if limits.QPS > 0 {
		sec := strconv.FormatInt(appNow.Unix(), 10)
		n, ok, err := s.TakeCount(ctx, app.ID, "qps", sec, limits.QPS)
		if err != nil {
			return Verdict{}, err
		}
		if !ok {
			return gatewayVerdict(smartappmock.CodeQPSLimit, fmt.Sprintf("qps limit: %d of %d requests used in second %s (app clock)", n, limits.QPS, sec)), nil
		}
	}
	if limits.Daily > 0 {
		day := appNow.In(beijing).Format("2006-01-02")
		n, ok, err := s.TakeCount(ctx, app.ID, "daily", day, limits.Daily)
		if err != nil {
			return Verdict{}, err
		}
		if !ok {
			return gatewayVerdict(smartappmock.CodeDailyLimit, fmt.Sprintf("daily limit: %d of %d requests used on %s (Beijing time, app clock)", n, limits.Daily, day)), nil
		}
	}
	// Business: openapi.yaml, business rules, the magic open_id, the app's open_ids, capability,
	// the window.
	if in.Invalid != nil {
		return *in.Invalid, nil
	}
	if v, ok, err := takeRule(ctx, s, in, app.ID, rules, smartappmock.LayerBusiness); ok || err != nil {
		return v, err
	}
	if in.Magic != nil {
		return *in.Magic, nil
	}
	if v, ok := in.OpenIDs[app.ID]; ok {
		return v, nil
	}
	if !app.Capability {
		return businessVerdict(smartappmock.ErrnoCapabilityDisabled, "customer-service capability is off for app "+app.ID), nil
	}
	var grantWarnings []Warning
	if g := in.Grant; g != nil {
		if v, ok := g.Refused[app.ID]; ok {
			return v, nil
		}
		grantWarnings = g.Warnings
	}
	dec, err := s.TakeReply(ctx, app.ID, in.Match.OpenID, appNow, in.Window)
	if err != nil {
		return Verdict{}, err
	}
	if !dec.OK {
		v := businessVerdict(smartappmock.ErrnoQuotaExceeded, "window: "+dec.Reason)
		v.Warnings = grantWarnings
		return v, nil
	}
	v := businessVerdict(smartappmock.ErrnoOK, "window: "+dec.Reason)
	v.Warnings = grantWarnings
	if !dec.Window.UserMessage {
		if len(v.Warnings) == 0 {
			v.Warnings = onlyWarning(in.Warn.OpenOnFirstSend)
		} else {
			v.Warnings = append(v.Warnings[:len(v.Warnings):len(v.Warnings)], in.Warn.OpenOnFirstSend)
		}
	}
	return v, nil
}

// takeRule returns the verdict of the first rule of the layer that matches the send of app and
// still has uses left; the use is counted.
func takeRule(ctx context.Context, s Store, in *SendInput, app string, rules Rules, layer smartappmock.Layer) (Verdict, bool, error) {
	for i := range rules.Rules {
		rule := &rules.Rules[i]
		if (layer == smartappmock.LayerGateway) != (rule.Answer.ErrorCode != nil) || !in.Match.Matches(app, &rule.Match) {
			continue
		}
		_, ok, err := s.TakeCount(ctx, NoApp, RuleCounter(i), RulePeriod(rules.Version), rule.Times)
		if err != nil {
			return Verdict{}, false, err
		}
		if !ok {
			continue
		}
		label := RuleLabel(*rule, i)
		v := Verdict{Layer: layer, Reason: "rule " + label, Rule: label, Warnings: []Warning{in.Warn.Rule}}
		if rule.Answer.ErrorCode != nil {
			v.Code = *rule.Answer.ErrorCode
		} else {
			v.Code = *rule.Answer.Errno
		}
		return v, true, nil
	}
	return Verdict{}, false, nil
}

// lastOnly holds the one-warning slice onlyWarning gave last.
var lastOnly atomic.Pointer[[]Warning]

// onlyWarning returns []Warning{w}, shared with the sends that got the same warning alone before
// (open_on_first_send: every reply under that policy), so that it costs neither an allocation per
// send nor an object per journal entry. The slice is read-only; its capacity is its length, so an
// append copies.
func onlyWarning(w Warning) []Warning {
	if p := lastOnly.Load(); p != nil && (*p)[0] == w {
		return *p
	}
	ws := []Warning{w}
	lastOnly.Store(&ws)
	return ws
}
