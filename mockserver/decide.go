package mockserver

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/internal/spec"
	"github.com/smartappmock/smartappmock/mockserver/params"
	"github.com/smartappmock/smartappmock/store"
)

const (
	magicOpenIDPrefix = "errno_"
	magicTokenPrefix  = "error_code_"
	sandboxTokenApp   = "token-"
)

// send is one send as the decision reads it: the parameters in use and what rules and fault plans
// match on.
type send struct {
	token, openID, msgType, content string
	// user is what the send's lookup read of its recipient among the app's users.
	user userProbe
	// byTP is a send on sendbytp, the third-party platform's twin: it takes authorizer tokens (45.)
	// only, and the app must have granted the token's platform customer service.
	byTP bool
	p    *params.Params
	// c, when not nil, is a call of an endpoint beside the send (call.go): its endpoint declares
	// its first step's credentials and whether the limits count it, and after the gateway layer
	// its form and its own checks decide.
	c *call
}

// userProbe is whether app holds a user of the send's open_id, as its lookup read it.
type userProbe struct {
	app  string // "": not read
	held bool
}

// matches reports whether a rule's or fault plan's match m selects the send of app.
func (in *send) matches(app string, m *config.Match) bool {
	return (m.App == "" || m.App == app) && (m.Token == "" || m.Token == in.token) &&
		(m.OpenID == "" || m.OpenID == in.openID) && (m.MsgType == "" || m.MsgType == in.msgType) &&
		(m.Content == "" || m.Content == in.content) &&
		(m.ContentContains == "" || strings.Contains(in.content, m.ContentContains))
}

// decideSend decides the answer to a send, in the one order of the real service's checks; each
// stateful step is one of the store's primitives, and every reason is worded here (reasons.go):
//
//  1. the token: missing, a magic token, a token of the other send endpoint; else the store's
//     Lookup: issued or configured, a refresh token, expiry on the app's clock, a sandbox app
//     for an unknown token when the policy allows (a call whose endpoint declares credentials
//     of its own, the v1 login's client_id and sk or the platform token, checks those instead);
//  2. the fault plans (the app's, then the top-level ones; a magic open_id's instead), and a
//     token refusal ends here;
//  3. a fault that strikes before the service ends here, nothing counted;
//  4. gateway: rules (the first that matches with uses left), the QPS limit, the daily limit;
//  5. business: openapi.yaml (3001), business rules, a magic open_id, an open_id the app does
//     not know (its configured lists, then policy.open_ids: a user the fake issued for the app;
//     another app's user or nobody's answers 30022 under issued, a warning under any),
//     capability, the platform's grant (sendbytp), the window; a call of another endpoint: its
//     form of openapi.yaml, then its own checks (call.go).
//
// The decision carries the app, its clock and the fault that picked the send; the caller
// journals the entry once, with the answer the client got. A store that does not answer gives
// error_code 2, with nothing counted after the step that failed.
func (s *Server) decideSend(ctx context.Context, in *send, req *smartappmock.SendRequest, now time.Time) Decision {
	d, err := s.decideSendSteps(ctx, in, req, now)
	if err != nil {
		s.noteLostReply(ctx, err) // a reply it may have counted is given back: reconcile.go
		d = storeDown(err)
		d.Warnings = s.leadingWarnings(in)
		if in.c != nil {
			in.c.rp = reply{} // the store's answer, not one the endpoint rendered
		}
	}
	if len(in.p.Notes()) > 0 && d.Code != 0 {
		d.Reason += "; " + strings.Join(in.p.Notes(), "; ")
	}
	return d
}

// leadingWarnings are the warnings every answer of the send carries first (lenient JSON).
func (s *Server) leadingWarnings(in *send) []store.Warning {
	if in.p.LenientJSON() {
		return []store.Warning{WarnLenientJSON.Warning()}
	}
	return nil
}

func (s *Server) decideSendSteps(ctx context.Context, in *send, req *smartappmock.SendRequest, now time.Time) (Decision, error) {
	d := Decision{AppTime: now}
	warnings := s.leadingWarnings(in)

	// 1. The token (the credentials a call's endpoint declares instead: endpoint.authenticate).
	if in.c != nil && in.c.ep.authenticate != nil {
		return s.decideCallSteps(ctx, in, d, warnings)
	}
	refusal, refused := s.tokenGate(in.token, in.byTP)
	fallback := ""
	sandbox := s.cfg.Policy.Tokens == config.TokensSandbox
	baiduLike := false
	if !refused {
		baiduLike = baiduShaped(in.token)
		if sandbox && !baiduLike {
			fallback = SandboxAppID(in.token)
		}
	}
	lookupToken := in.token
	if refused {
		lookupToken = "" // only the plans' versions are read
	}
	// A send's recipient is looked for among the app's users in the same step (policy.open_ids).
	var probe store.RecordKey
	if in.c == nil && in.openID != "" {
		probe = store.RecordKey{Kind: kindUser, ID: in.openID}
	}
	lk, err := s.store.LookupWith(ctx, lookupToken, fallback, probe)
	if err != nil {
		return Decision{}, err
	}
	s.reconcileSoon() // the store answers: sends whose answer was lost are reconciled (reconcile.go)
	if lk.Rules == 0 {
		// A seeded store has given the rules a version: this one lost its state (a Redis that
		// restarted empty). The configured apps and tokens come back before anything is decided,
		// so a configured token is never taken for an unknown one.
		if err := s.seedAgain(ctx); err != nil {
			return Decision{}, err
		}
		if lk, err = s.store.LookupWith(ctx, lookupToken, fallback, probe); err != nil {
			return Decision{}, err
		}
	}
	if lk.Probed {
		in.user = userProbe{app: lk.App.ID, held: lk.Held}
	}
	if !lk.Now.IsZero() {
		now = lk.Now.In(now.Location()) // the store's clock: replicas' clocks never matter
		d.AppTime = now
	}
	var app store.App
	if !refused {
		app, refusal, refused, err = s.sendApp(ctx, in, &lk, sandbox, baiduLike)
		if err != nil {
			return Decision{}, err
		}
		if app.ID != "" {
			d.App, d.AppTime = app.ID, app.Now(now)
			switch app.Source {
			case "sandbox-token":
				warnings = append(warnings, WarnUnissuedToken.Warning())
			case "sandbox-client":
				warnings = append(warnings, WarnUnconfiguredClient.Warning())
			}
		}
		if !refused && !lk.Token.Expires.IsZero() && !d.AppTime.Before(lk.Token.Expires) {
			// The decision keeps the app and its clock, so the app's journal and inbox show the expiry.
			refusal, refused = gateway(smartappmock.CodeAccessTokenExpired, reasonTokenExpired(lk.Token.Expires, d.AppTime)), true
		}
	}

	return s.decideAfterCredentials(ctx, in, req, d, lk.Rules, lk.Faults, app, refusal, refused, warnings)
}

// decideAfterCredentials is steps 2 to 5, once step 1 named the app (d.App; none when the
// business layer names it) or refused (refusal), with the plans' versions rv and fv.
func (s *Server) decideAfterCredentials(ctx context.Context, in *send, req *smartappmock.SendRequest, d Decision, rv, fv uint64,
	app store.App, refusal Decision, refused bool, warnings []store.Warning) (Decision, error) {
	// 2. The fault plans (a magic open_id's fault instead: a call's magic parameter).
	plans, err := s.plans.get(ctx, s.store, rv, fv)
	if err != nil {
		return Decision{}, err
	}
	magic := in.openID
	if in.c != nil {
		magic = in.c.magic
	}
	if s.cfg.Policy.MagicValues && strings.HasPrefix(magic, magicFaultPrefix) {
		if plan, ok := magicFault(magic); ok {
			d.Fault = &plan
		}
	}
	if d.Fault == nil && !plans.faultsEmpty() {
		if d.Fault, err = s.pickFault(ctx, in, plans, d.App); err != nil {
			return Decision{}, err
		}
	}
	if refused {
		return d.with(refusal, warnings), nil
	}

	// 3. A fault that strikes before the service.
	if d.Fault != nil && d.Fault.Phase == config.FaultPhaseBefore {
		return d.with(gateway(smartappmock.CodeUnavailable, reasonFaultBefore(d.Fault)), warnings), nil
	}

	// 4 and 5. The gateway and business layers (a call's form and own checks: call.go).
	var v Decision
	if in.c != nil {
		v, err = s.decideCall(ctx, in, plans, app, d.AppTime)
		if v.App != "" { // the business layer named the app (RetrieveAuthCode's app_id)
			d.App, d.AppTime = v.App, v.AppTime
		}
	} else {
		v, err = s.decideService(ctx, in, req, plans, app, d.AppTime)
	}
	if err != nil {
		return Decision{}, err
	}
	return d.with(v, warnings), nil
}

// decideCallSteps decides a call whose endpoint declares credentials of its own (step 1: the v1
// login's client_id and sk, the platform token), then steps 2 to 5 as a send's.
func (s *Server) decideCallSteps(ctx context.Context, in *send, d Decision, warnings []store.Warning) (Decision, error) {
	lk, err := s.store.Lookup(ctx, "", "") // the plans' versions and the store's clock
	if err != nil {
		return Decision{}, err
	}
	now := d.AppTime
	if !lk.Now.IsZero() {
		now = lk.Now.In(now.Location())
		d.AppTime = now
	}
	app, rp, refused, warns, err := in.c.ep.authenticate(ctx, in.c, now)
	if err != nil {
		return Decision{}, err
	}
	if app.ID != "" {
		d.App, d.AppTime = app.ID, app.Now(now)
	}
	warnings = append(warnings, warns...)
	if refused {
		in.c.rp = rp
	}
	return s.decideAfterCredentials(ctx, in, nil, d, lk.Rules, lk.Faults, app, rp.d, refused, warnings)
}

// with returns d with v's answer, and warnings before v's.
func (d Decision) with(v Decision, warnings []store.Warning) Decision {
	d.Layer, d.Code, d.Reason, d.Rule = v.Layer, v.Code, v.Reason, v.Rule
	switch {
	case len(warnings) == 0:
		d.Warnings = v.Warnings
	case len(v.Warnings) == 0:
		d.Warnings = warnings
	default:
		d.Warnings = append(warnings[:len(warnings):len(warnings)], v.Warnings...)
	}
	return d
}

// sendApp is the app of a token the store looked up (lk): the token's, or a sandbox app of its
// own for a token the fake did not issue (policy tokens: sandbox), registered on its first send.
// When refused, the refusal says why the token is not accepted.
func (s *Server) sendApp(ctx context.Context, in *send, lk *store.Lookup, sandbox, baiduLike bool) (app store.App, refusal Decision, refused bool, err error) {
	switch {
	case lk.TokenFound && lk.Token.Refresh:
		return store.App{}, gateway(smartappmock.CodeInvalidAccessToken, reasonRefreshToken), true, nil
	case lk.TokenFound && !lk.AppFound:
		return store.App{}, gateway(smartappmock.CodeInvalidAccessToken, reasonTokenAppGone(lk.Token.App)), true, nil
	case lk.TokenFound:
		return lk.App, Decision{}, false, nil
	case !sandbox:
		return store.App{}, gateway(smartappmock.CodeInvalidAccessToken, reasonTokenNotIssued), true, nil
	case baiduLike:
		// A token of Baidu's shape that this fake did not issue is stale (an earlier run, another
		// fake) or forged: the real service answers 110, so a sandbox must too, or a client that
		// never refreshes would pass here and fail against Baidu.
		return store.App{}, gateway(smartappmock.CodeInvalidAccessToken, reasonTokenStale), true, nil
	case lk.AppFound:
		return lk.App, Decision{}, false, nil
	}
	app, _, err = s.store.RegisterApp(ctx, store.App{ID: SandboxAppID(in.token), Source: "sandbox-token", Capability: true})
	return app, Decision{}, false, err
}

// decideService is the service's part of a send (steps 4 and 5): the gateway layer (rules, the
// QPS and daily limits), then the business layer.
func (s *Server) decideService(ctx context.Context, in *send, req *smartappmock.SendRequest, plans *planCache, app store.App, appNow time.Time) (Decision, error) {
	gv, refused, takes, err := s.decideGateway(ctx, in, plans, app, appNow, "qps", "daily")
	if err != nil || refused {
		return gv, err
	}

	// Business: openapi.yaml, business rules, the magic open_id, the app's open_ids, capability,
	// the platform's grant, the window.
	if v, ok := s.invalidSend(in, req); ok {
		return v, nil
	}
	if takes, fired := s.ruleTakes(in, plans, app.ID, smartappmock.LayerBusiness, takes[:0]); len(takes) > 0 {
		res, err := s.store.TakeCounts(ctx, takes)
		if err != nil {
			return Decision{}, err
		}
		if res.Ended >= 0 {
			return s.ruleDecision(plans, fired[res.Ended], smartappmock.LayerBusiness), nil
		}
	}
	if v, ok := s.magicOpenID(in.openID); ok {
		return v, nil
	}
	if v, ok := s.unknownOpenID(app.ID, in.openID); ok {
		return v, nil
	}
	var issued openIDCheck // users.go: policy.open_ids
	if in.user.app == app.ID && app.ID != "" {
		issued, err = s.issuedOpenIDHeld(ctx, app.ID, in.openID, in.user.held) // read by the lookup
	} else {
		issued, err = s.issuedOpenID(ctx, app.ID, in.openID)
	}
	if err != nil {
		return Decision{}, err
	}
	if issued.refused {
		return issued.d, nil
	}
	// Under policy open_ids any, every answer from here on is one Baidu would not give (30022).
	v, err := s.decideServiceEnd(ctx, in, app, appNow)
	if err == nil && issued.warn {
		v.Warnings = withUnissuedOpenID(v.Warnings)
	}
	return v, err
}

// decideServiceEnd is the end of the business layer: capability, the platform's grant, the window.
func (s *Server) decideServiceEnd(ctx context.Context, in *send, app store.App, appNow time.Time) (Decision, error) {
	if !app.Capability {
		return business(smartappmock.ErrnoCapabilityDisabled, reasonCapabilityOff(app.ID)), nil
	}
	var grantWarnings []store.Warning
	if in.byTP {
		v, ok, warns := s.CheckPlatformGrant(in.token, app.ID)
		if !ok {
			return v, nil
		}
		grantWarnings = warns
	}
	take, err := s.store.TakeReply(ctx, app.ID, in.openID, appNow, s.window)
	if err != nil {
		return Decision{}, &lostReply{app: app.ID, openID: in.openID, err: err}
	}
	if !take.OK {
		v := business(smartappmock.ErrnoQuotaExceeded, reasonWindowRefused(take, s.window))
		v.Warnings = grantWarnings
		return v, nil
	}
	v := business(smartappmock.ErrnoOK, reasonReply(take.Window.Replies, s.window.MaxReplies))
	v.Warnings = grantWarnings
	if !take.Window.UserMessage {
		if len(v.Warnings) == 0 {
			v.Warnings = onlyWarning(WarnOpenOnFirstSend.Warning())
		} else {
			v.Warnings = append(v.Warnings[:len(v.Warnings):len(v.Warnings)], WarnOpenOnFirstSend.Warning())
		}
	}
	return v, nil
}

// The warnings of a send to an open_id the fake did not issue, alone and before a window opened
// by the send: shared, read-only slices (capacity = length, so an append copies), so that the
// sandbox's usual replies cost no allocation for them.
var (
	unissuedOnly        = []store.Warning{WarnUnissuedOpenID.Warning()}
	unissuedFirstSend   = []store.Warning{WarnUnissuedOpenID.Warning(), WarnOpenOnFirstSend.Warning()}
	openOnFirstSendOnly = WarnOpenOnFirstSend.Warning()
)

// withUnissuedOpenID returns ws with WarnUnissuedOpenID first.
func withUnissuedOpenID(ws []store.Warning) []store.Warning {
	switch {
	case len(ws) == 0:
		return unissuedOnly
	case len(ws) == 1 && ws[0] == openOnFirstSendOnly:
		return unissuedFirstSend
	}
	out := make([]store.Warning, 0, len(ws)+1)
	return append(append(out, WarnUnissuedOpenID.Warning()), ws...)
}

// decideGateway is the gateway layer of a request (step 4): the gateway rules (the first that
// matches with uses left), then the app's QPS and daily limits, counted under the counter names
// qps and daily ("": the request's endpoint takes no limits; QPS first: a request refused for QPS
// does not count toward the day). It returns the takes' slice for reuse.
func (s *Server) decideGateway(ctx context.Context, in *send, plans *planCache, app store.App, appNow time.Time, qps, daily string) (Decision, bool, []store.Take, error) {
	takes, fired := s.ruleTakes(in, plans, app.ID, smartappmock.LayerGateway, nil)
	limits := s.limitsFor(app.ID)
	var sec, day string
	if qps != "" && limits.QPS > 0 {
		sec = strconv.FormatInt(appNow.Unix(), 10)
		takes = append(takes, store.Take{App: app.ID, Name: qps, Period: sec, Limit: limits.QPS})
	}
	if daily != "" && limits.Daily > 0 {
		day = appNow.In(beijing).Format("2006-01-02")
		takes = append(takes, store.Take{App: app.ID, Name: daily, Period: day, Limit: limits.Daily})
	}
	if len(takes) > 0 {
		res, err := s.store.TakeCounts(ctx, takes)
		if err != nil {
			return Decision{}, false, nil, err
		}
		switch i := res.Ended; {
		case i < 0:
		case i < len(fired):
			return s.ruleDecision(plans, fired[i], smartappmock.LayerGateway), true, nil, nil
		case takes[i].Name == qps:
			return gateway(smartappmock.CodeQPSLimit, reasonQPS(res.Count, limits.QPS, sec)), true, nil, nil
		default:
			return gateway(smartappmock.CodeDailyLimit, reasonDaily(res.Count, limits.Daily, day)), true, nil, nil
		}
	}
	return Decision{}, false, takes, nil
}

// ruleTakes appends to takes a use of every rule of the layer that matches the send of app, in
// order (the first with a use left answers), and returns the rules' indexes beside.
func (s *Server) ruleTakes(in *send, plans *planCache, app string, layer smartappmock.Layer, takes []store.Take) ([]store.Take, []int) {
	var fired []int
	// Only the rules that may match are looked at (the index of the layer, built once per version).
	plans.index[layerIndex(layer != smartappmock.LayerGateway)].candidates(in.openID, func(i int) bool {
		rule := &plans.rules[i]
		if in.matches(app, &rule.Match) {
			takes = append(takes, store.Take{App: store.NoApp, Name: RuleCounter(i), Period: RulePeriod(plans.rulesVersion), Limit: rule.Times, EndsWhenCounted: true})
			fired = append(fired, i)
		}
		return true
	})
	return takes, fired
}

// ruleDecision is the answer of the i-th rule.
func (s *Server) ruleDecision(plans *planCache, i int, layer smartappmock.Layer) Decision {
	rule := &plans.rules[i]
	label := RuleLabel(*rule, i)
	d := Decision{Layer: layer, Reason: "rule " + label, Rule: label, Warnings: []store.Warning{WarnRule.Warning()}}
	if rule.Answer.ErrorCode != nil {
		d.Code = *rule.Answer.ErrorCode
	} else {
		d.Code = *rule.Answer.Errno
	}
	return d
}

// limitsFor returns the QPS and daily limits of app: a configured app's (merged with the
// policy), the policy's for any other.
func (s *Server) limitsFor(app string) config.Limits {
	if l, ok := s.limits[app]; ok {
		return l
	}
	return s.defaultLimits
}

// tokenGate is the stateless check of a token: missing, a magic token error_code_<N>, or a token
// of the other send endpoint (an authorizer token is for sendbytp only). It returns nil when the
// store must look the token up (refused false).
func (s *Server) tokenGate(token string, byTP bool) (refusal Decision, refused bool) {
	if token == "" {
		return gateway(smartappmock.CodeInvalidParameter, reasonTokenMissing), true
	}
	if s.cfg.Policy.MagicValues && strings.HasPrefix(token, magicTokenPrefix) {
		if n, err := strconv.Atoi(token[len(magicTokenPrefix):]); err == nil {
			if _, ok := s.spec.Catalogue().GatewayMessage(n); ok {
				return Decision{Layer: smartappmock.LayerGateway, Code: n, Reason: "magic access_token " + token, Rule: "magic:" + token,
					Warnings: []store.Warning{WarnMagicValue.Warning()}}, true
			}
		}
	}
	switch {
	case byTP && !AuthorizerToken(token):
		return gateway(smartappmock.CodeInvalidAccessToken, reasonTPTokenWanted), true
	case !byTP && AuthorizerToken(token):
		return gateway(smartappmock.CodeInvalidAccessToken, reasonTPTokenRefused), true
	}
	return Decision{}, false
}

// invalidSend is the answer to parameters that UTF-8 or openapi.yaml refuse (3001).
func (s *Server) invalidSend(in *send, req *smartappmock.SendRequest) (Decision, bool) {
	if name := in.p.InvalidUTF8(); name != "" {
		return business(smartappmock.ErrnoInvalidParam, name+": not valid UTF-8"), true
	}
	if vs := s.spec.CheckSend(req.Get); len(vs) > 0 {
		return business(smartappmock.ErrnoInvalidParam, spec.Join(vs)), true
	}
	return Decision{}, false
}

// magicOpenID is the answer of a magic open_id errno_<N>.
func (s *Server) magicOpenID(openID string) (Decision, bool) {
	if !s.cfg.Policy.MagicValues || !strings.HasPrefix(openID, magicOpenIDPrefix) {
		return Decision{}, false
	}
	n, err := strconv.Atoi(openID[len(magicOpenIDPrefix):])
	if err != nil || n == 0 {
		return Decision{}, false
	}
	if _, ok := s.spec.Catalogue().BusinessMessage(n); !ok {
		return Decision{}, false
	}
	return Decision{Layer: smartappmock.LayerBusiness, Code: n, Reason: "magic open_id " + openID, Rule: "magic:" + openID,
		Warnings: []store.Warning{WarnMagicValue.Warning()}}, true
}

// unknownOpenID is the answer when a configured app does not know the open_id (its
// foreign_open_ids or open_ids).
func (s *Server) unknownOpenID(app, openID string) (Decision, bool) {
	ca, ok := s.apps[app]
	if !ok {
		return Decision{}, false
	}
	switch {
	case slices.Contains(ca.ForeignOpenIDs, openID):
		return business(smartappmock.ErrnoInvalidOpenID, reasonForeignOpenID), true
	case len(ca.OpenIDs) > 0 && !slices.Contains(ca.OpenIDs, openID):
		return business(smartappmock.ErrnoInvalidOpenID, reasonNotAUser(app)), true
	}
	return Decision{}, false
}

// baiduShaped reports whether a token looks like one Baidu issues:
// <type>.<32 hex>.<seconds>.<unix time>.<digits>-<app id>.
func baiduShaped(t string) bool {
	// Four dot-terminated parts, then the rest, cut without allocating (every send asks).
	var parts [5]string
	rest := t
	for i := range 4 {
		p, r, ok := strings.Cut(rest, ".")
		if !ok {
			return false
		}
		parts[i], rest = p, r
	}
	parts[4] = rest
	if len(parts[1]) != 32 {
		return false
	}
	for _, p := range parts[:4] {
		if p == "" {
			return false
		}
	}
	for _, c := range parts[1] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	for _, p := range []string{parts[0], parts[2], parts[3]} {
		for _, c := range p {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	digits, app, ok := strings.Cut(parts[4], "-")
	return ok && digits != "" && app != "" && strings.Trim(digits, "0123456789") == ""
}

// SandboxAppID names the sandbox app that a token this fake did not issue becomes (policy tokens:
// sandbox): "token-" and 12 hex digits of the token's SHA-256.
func SandboxAppID(token string) string { return sandboxTokenApp + tokenHash(token) }
