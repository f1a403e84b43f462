package mockserver

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/internal/spec"
	"github.com/smartappmock/smartappmock/mockserver/fault"
	"github.com/smartappmock/smartappmock/store"
)

// beijing is the time zone of the real service's daily limits (UTC+8, no DST).
var beijing = time.FixedZone("CST", 8*3600)

const (
	magicOpenIDPrefix = "errno_"
	magicTokenPrefix  = "error_code_"
	sandboxTokenApp   = "token-"
)

// verdict is a send's decision with what the decision found out on the way: the app the send is
// charged to, the app's clock, the redacted token, the fault plan that picked the send (and where
// it strikes) and the ways the answer differs from Baidu's.
type verdict struct {
	Decision
	app      string
	appTime  time.Time
	token    string
	fault    fault.Plan
	faulted  bool
	phase    string
	warnings []store.Warning
}

func (v *verdict) warn(kind WarningKind) {
	v.warnings = append(v.warnings, kind.Warning())
}

// decideSend decides the answer to a send: the token, then the fault plans (a fault that strikes
// before the service ends the decision there: nothing is counted), then the gateway layer (rules,
// QPS and daily limits) and the business layer (validation by openapi.yaml, business rules, magic
// open_id, open_id of another app, capability, the window). Each stateful step is one atomic
// Store call.
//
// byTP is a send on sendbytp, the third-party platform's twin: it takes authorizer tokens (45.)
// only, and the app must have granted the token's platform customer service.
func (s *Server) decideSend(r *http.Request, req *smartappmock.SendRequest, p *params, now time.Time, byTP bool) verdict {
	ctx := r.Context()
	cfg := s.cfg
	v := verdict{appTime: now}
	token := req.AccessToken.Text
	in := matchInput{token: token, openID: req.OpenID.Text, msgType: req.MsgType.Text, content: req.Content.Text}
	v.warnings = append(v.warnings, p.warnings()...)
	app, d, ok := s.tokenApp(r, token, now, byTP, &v)
	in.app = v.app
	v.fault, v.faulted = s.pickFault(ctx, in)
	if v.faulted {
		v.phase = v.fault.Phase
	}
	if !ok {
		v.Decision = d
		return v
	}
	if v.faulted && v.phase == config.FaultPhaseBefore {
		v.Decision = gateway(smartappmock.CodeUnavailable, "fault "+v.fault.Describe()+" struck before the service: nothing was counted")
		return v
	}
	rules, err := s.store.Rules(ctx)
	if err != nil {
		v.Decision = storeDown(err)
		return v
	}

	// Gateway rules, then limits (QPS first: a request refused for QPS does not count toward the day).
	if d, ok := s.matchRule(r, rules, in, smartappmock.LayerGateway); ok {
		v.Decision = d
		if d.Rule != "" {
			v.warn(WarnRule)
		}
		return v
	}
	appNow := v.appTime
	limits := cfg.AppLimits(s.apps[app.ID]) // a sandbox app has no config: the policy's limits
	if limits.QPS > 0 {
		sec := strconv.FormatInt(appNow.Unix(), 10)
		n, ok, err := s.store.TakeCount(ctx, app.ID, "qps", sec, limits.QPS)
		if err != nil {
			v.Decision = storeDown(err)
			return v
		}
		if !ok {
			v.Decision = gateway(smartappmock.CodeQPSLimit, fmt.Sprintf("qps limit: %d of %d requests used in second %s (app clock)", n, limits.QPS, sec))
			return v
		}
	}
	if limits.Daily > 0 {
		day := appNow.In(beijing).Format("2006-01-02")
		n, ok, err := s.store.TakeCount(ctx, app.ID, "daily", day, limits.Daily)
		if err != nil {
			v.Decision = storeDown(err)
			return v
		}
		if !ok {
			v.Decision = gateway(smartappmock.CodeDailyLimit, fmt.Sprintf("daily limit: %d of %d requests used on %s (Beijing time, app clock)", n, limits.Daily, day))
			return v
		}
	}
	v.Decision = s.decideBusiness(r, req, p, app, appNow, rules, in, byTP, &v)
	return v
}

// tokenApp checks the token and finds its app: a magic token, an issued or configured token, or
// (policy tokens: sandbox) a token that becomes its own app. It fills v's app, app time and
// redacted token as far as they are known (an expired token keeps its app); when it returns
// false, the decision says why the send is refused.
func (s *Server) tokenApp(r *http.Request, token string, now time.Time, byTP bool, v *verdict) (store.App, Decision, bool) {
	if token == "" {
		return store.App{}, gateway(smartappmock.CodeInvalidParameter, "access_token: missing from the query and the body"), false
	}
	v.token = RedactToken(token)
	if s.cfg.Policy.MagicValues && strings.HasPrefix(token, magicTokenPrefix) {
		if n, err := strconv.Atoi(token[len(magicTokenPrefix):]); err == nil {
			if _, ok := s.spec.Catalogue().GatewayMessage(n); ok {
				d := gateway(n, "magic access_token "+token)
				d.Rule = "magic:" + token
				v.warn(WarnMagicValue)
				return store.App{}, d, false
			}
		}
	}
	switch {
	case byTP && !AuthorizerToken(token):
		return store.App{}, gateway(smartappmock.CodeInvalidAccessToken, "access_token: sendbytp takes an authorizer token (45.) of a third-party platform"), false
	case !byTP && AuthorizerToken(token):
		return store.App{}, gateway(smartappmock.CodeInvalidAccessToken, "access_token: an authorizer token (45.) is for sendbytp, not custom/send"), false
	}
	app, d, ok := s.appForToken(r, token, now)
	if app.ID != "" {
		v.app, v.appTime = app.ID, app.Now(now)
	}
	if !ok {
		return app, d, false
	}
	switch app.Source {
	case "sandbox-token":
		v.warn(WarnUnissuedToken)
	case "sandbox-client":
		v.warn(WarnUnconfiguredClient)
	}
	return app, Decision{}, true
}

// decideBusiness is the business layer of a send.
func (s *Server) decideBusiness(r *http.Request, req *smartappmock.SendRequest, p *params, app store.App, appNow time.Time, rules store.Rules, in matchInput, byTP bool, v *verdict) Decision {
	cfg := s.cfg
	if name := p.invalidUTF8(); name != "" {
		return business(smartappmock.ErrnoInvalidParam, name+": not valid UTF-8")
	}
	if vs := s.spec.CheckSend(req.Get); len(vs) > 0 {
		return business(smartappmock.ErrnoInvalidParam, spec.Join(vs))
	}
	if d, ok := s.matchRule(r, rules, in, smartappmock.LayerBusiness); ok {
		if d.Rule != "" {
			v.warn(WarnRule)
		}
		return d
	}
	openID := req.OpenID.Text
	if cfg.Policy.MagicValues && strings.HasPrefix(openID, magicOpenIDPrefix) {
		if n, err := strconv.Atoi(openID[len(magicOpenIDPrefix):]); err == nil && n != 0 {
			if _, ok := s.spec.Catalogue().BusinessMessage(n); ok {
				d := business(n, "magic open_id "+openID)
				d.Rule = "magic:" + openID
				v.warn(WarnMagicValue)
				return d
			}
		}
	}
	if ca, ok := s.apps[app.ID]; ok {
		if slices.Contains(ca.ForeignOpenIDs, openID) {
			return business(smartappmock.ErrnoInvalidOpenID, "open_id: belongs to another mini program (foreign_open_ids)")
		}
		if len(ca.OpenIDs) > 0 && !slices.Contains(ca.OpenIDs, openID) {
			return business(smartappmock.ErrnoInvalidOpenID, "open_id: not a user of app "+app.ID+" (open_ids)")
		}
	}
	if !app.Capability {
		return business(smartappmock.ErrnoCapabilityDisabled, "customer-service capability is off for app "+app.ID)
	}
	if byTP {
		d, ok, warns := s.CheckPlatformGrant(in.token, app.ID)
		v.warnings = append(v.warnings, warns...)
		if !ok {
			return d
		}
	}
	win := cfg.Policy.Window
	dec, err := s.store.TakeReply(r.Context(), app.ID, openID, appNow, store.WindowRule{
		Duration: time.Duration(win.Duration), MaxReplies: win.MaxReplies, OpenOnFirst: win.Mode == config.WindowOpenOnFirstSend,
	})
	if err != nil {
		return storeDown(err)
	}
	if !dec.OK {
		return business(smartappmock.ErrnoQuotaExceeded, "window: "+dec.Reason)
	}
	if !dec.Window.UserMessage {
		v.warn(WarnOpenOnFirstSend)
	}
	return business(smartappmock.ErrnoOK, "window: "+dec.Reason)
}

// appForToken finds the app of a token: issued or configured tokens first, then (policy sandbox)
// any other token becomes its own app. When it returns false, the decision says why not.
func (s *Server) appForToken(r *http.Request, token string, now time.Time) (store.App, Decision, bool) {
	ctx := r.Context()
	fail := func(code int, reason string) (store.App, Decision, bool) {
		return store.App{}, gateway(code, reason), false
	}
	tok, found, err := s.store.Token(ctx, token)
	if err != nil {
		return store.App{}, storeDown(err), false
	}
	if found && !tok.Refresh {
		app, ok, err := s.store.App(ctx, tok.App)
		if err != nil {
			return store.App{}, storeDown(err), false
		}
		if !ok {
			return fail(smartappmock.CodeInvalidAccessToken, "access_token: its app "+tok.App+" is gone")
		}
		appNow := app.Now(now)
		if !tok.Expires.IsZero() && !appNow.Before(tok.Expires) {
			// The entry keeps the app and its clock, so the app's journal and inbox show the expiry.
			return app, gateway(smartappmock.CodeAccessTokenExpired, fmt.Sprintf("access_token: expired at %s (app clock %s)", tok.Expires.Format(time.RFC3339), appNow.Format(time.RFC3339))), false
		}
		return app, Decision{}, true
	}
	if found && tok.Refresh {
		return fail(smartappmock.CodeInvalidAccessToken, "access_token: this is a refresh token; send the access_token")
	}
	if s.cfg.Policy.Tokens != config.TokensSandbox {
		return fail(smartappmock.CodeInvalidAccessToken, "access_token: not issued by this fake (policy tokens: issued)")
	}
	if baiduShaped(token) {
		// A token of Baidu's shape that this fake did not issue is stale (an earlier run, another
		// fake) or forged: the real service answers 110, so a sandbox must too, or a client that
		// never refreshes would pass here and fail against Baidu.
		return fail(smartappmock.CodeInvalidAccessToken, "access_token: has Baidu's shape but was not issued by this fake (stale from an earlier run?); get a new one")
	}
	id := SandboxAppID(token)
	app, _, err := s.store.RegisterApp(ctx, store.App{ID: id, Source: "sandbox-token", Capability: true})
	if err != nil {
		return store.App{}, storeDown(err), false
	}
	return app, Decision{}, true
}

// baiduShaped reports whether a token looks like one Baidu issues:
// <type>.<32 hex>.<seconds>.<unix time>.<digits>-<app id>.
func baiduShaped(t string) bool {
	parts := strings.SplitN(t, ".", 5)
	if len(parts) != 5 || len(parts[1]) != 32 {
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
