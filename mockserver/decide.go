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
	"github.com/smartappmock/smartappmock/mockserver/params"
	"github.com/smartappmock/smartappmock/store"
)

const (
	magicOpenIDPrefix = "errno_"
	magicTokenPrefix  = "error_code_"
	sandboxTokenApp   = "token-"
)

// verdict is a send's decision with what the decision found out on the way: the app the send is
// charged to, the app's clock, the redacted token, the fault plan that picked the send (and where
// it strikes), the ways the answer differs from Baidu's, and the sequence number of the entry when
// the store journaled it already.
type verdict struct {
	Decision
	app     string
	appTime time.Time
	token   string
	fault   fault.Plan
	faulted bool
	phase   string
	seq     uint64
}

// decideSend decides the answer to a send: the token, then the fault plans (a fault that strikes
// before the service ends the decision there: nothing is counted), then the gateway layer (rules,
// QPS and daily limits) and the business layer (validation by openapi.yaml, business rules, magic
// open_id, open_id of another app, capability, the window). The stateless parts are decided here;
// the stateful ones, in that order, are one Store.Send call, which also journals e with the
// decision written in unless a fault picked the send. Every reason carries the parameters' notes
// when the answer is not a success.
//
// byTP is a send on sendbytp, the third-party platform's twin: it takes authorizer tokens (45.)
// only, and the app must have granted the token's platform customer service.
func (s *Server) decideSend(r *http.Request, req *smartappmock.SendRequest, p *params.Params, now time.Time, e *store.Entry, byTP bool) verdict {
	v := verdict{appTime: now}
	token := req.AccessToken.Text
	openID := req.OpenID.Text
	in := store.SendInput{Now: now, Token: token, Limits: s.limits, Window: s.window, Warn: s.sendWarn,
		Match: store.SendMatch{Token: token, OpenID: openID, MsgType: req.MsgType.Text, Content: req.Content.Text}}
	if len(p.Notes()) > 0 {
		in.Notes = "; " + strings.Join(p.Notes(), "; ")
	}
	if p.LenientJSON() {
		in.Warnings = []store.Warning{WarnLenientJSON.Warning()}
	}
	in.TokenVerdict = s.tokenGate(token, byTP)
	if token != "" {
		v.token = p.RedactedToken(token)
	}
	if in.TokenVerdict == nil {
		in.Sandbox = s.cfg.Policy.Tokens == config.TokensSandbox
		in.BaiduShaped = baiduShaped(token)
		if in.Sandbox && !in.BaiduShaped {
			in.SandboxApp = SandboxAppID(token)
		}
		s.businessInput(req, p, &in)
		if byTP {
			in.Grant = s.grant(token)
		}
	}
	if s.cfg.Policy.MagicValues && strings.HasPrefix(openID, magicFaultPrefix) {
		if plan, ok := magicFault(openID); ok {
			v.fault, v.faulted, v.phase = plan, true, plan.Phase
			in.MagicFault = v.phase
		}
	}
	e.Token = v.token
	e.LatencyMicros = s.now().Sub(now).Microseconds()
	in.Entry = *e
	res, err := s.store.Send(r.Context(), in)
	if err != nil {
		v.Decision = storeDown(err)
		v.Reason += in.Notes
		v.Warnings = in.Warnings
		return v
	}
	if res.App != "" {
		v.app, v.appTime = res.App, res.AppTime
	}
	v.seq = res.Seq
	if pf := res.Fault; pf != nil {
		where := "faults"
		if pf.Plan.App != "" {
			where = s.AppFaultsWhere(pf.Plan.App)
		}
		step := ""
		if n := len(pf.Fault.Sequence); n > 0 {
			step = fmt.Sprintf(", step %d of %d", pf.Take.Step+1, n)
		}
		v.fault = fault.Plan{Kind: pf.Kind, Latency: pf.Latency, Source: pf.Fault.Label(where, pf.Plan.Index) + step,
			DripInterval: time.Duration(pf.Fault.DripInterval), DripBytes: pf.Fault.DripBytes, Phase: pf.Fault.PhaseFor(pf.Kind)}
		v.faulted, v.phase = true, v.fault.Phase
	}
	if res.Stopped {
		v.Decision = gateway(smartappmock.CodeUnavailable, "fault "+v.fault.Describe()+" struck before the service: nothing was counted"+in.Notes)
		v.Warnings = res.Warnings
		return v
	}
	v.Decision = Decision{Layer: res.Layer, Code: res.Code, Reason: res.Reason, Rule: res.Rule, Warnings: res.Warnings}
	return v
}

// tokenGate is the stateless check of a token: missing, a magic token error_code_<N>, or a token
// of the other send endpoint (an authorizer token is for sendbytp only). It returns nil when the
// store must look the token up.
func (s *Server) tokenGate(token string, byTP bool) *store.Verdict {
	if token == "" {
		return &store.Verdict{Layer: smartappmock.LayerGateway, Code: smartappmock.CodeInvalidParameter, Reason: "access_token: missing from the query and the body"}
	}
	if s.cfg.Policy.MagicValues && strings.HasPrefix(token, magicTokenPrefix) {
		if n, err := strconv.Atoi(token[len(magicTokenPrefix):]); err == nil {
			if _, ok := s.spec.Catalogue().GatewayMessage(n); ok {
				return &store.Verdict{Layer: smartappmock.LayerGateway, Code: n, Reason: "magic access_token " + token, Rule: "magic:" + token,
					Warnings: []store.Warning{WarnMagicValue.Warning()}}
			}
		}
	}
	switch {
	case byTP && !AuthorizerToken(token):
		return &store.Verdict{Layer: smartappmock.LayerGateway, Code: smartappmock.CodeInvalidAccessToken, Reason: "access_token: sendbytp takes an authorizer token (45.) of a third-party platform"}
	case !byTP && AuthorizerToken(token):
		return &store.Verdict{Layer: smartappmock.LayerGateway, Code: smartappmock.CodeInvalidAccessToken, Reason: "access_token: an authorizer token (45.) is for sendbytp, not custom/send"}
	}
	return nil
}

// grant is the platform grant of a send on sendbytp (CheckPlatformGrant): its warnings when the
// platform is not configured, else the verdict of each configured app that did not grant it.
func (s *Server) grant(token string) *store.Grant {
	g := &store.Grant{}
	for id := range s.apps {
		d, ok, warns := s.CheckPlatformGrant(token, id)
		if len(warns) > 0 {
			g.Warnings = warns // the same for every app: the platform is not configured
		}
		if !ok {
			if g.Refused == nil {
				g.Refused = map[string]store.Verdict{}
			}
			g.Refused[id] = store.Verdict{Layer: d.Layer, Code: d.Code, Reason: d.Reason, Rule: d.Rule}
		}
	}
	if len(s.apps) == 0 { // no configured app: a sandbox app, whose grant is the platform's
		_, _, g.Warnings = s.CheckPlatformGrant(token, "")
	}
	return g
}

// businessInput fills the stateless verdicts of the business layer: the parameters refused by
// UTF-8 or openapi.yaml (3001), a magic open_id errno_<N>, and the configured apps whose open_id
// lists refuse the open_id.
func (s *Server) businessInput(req *smartappmock.SendRequest, p *params.Params, in *store.SendInput) {
	if name := p.InvalidUTF8(); name != "" {
		in.Invalid = &store.Verdict{Layer: smartappmock.LayerBusiness, Code: smartappmock.ErrnoInvalidParam, Reason: name + ": not valid UTF-8"}
	} else if vs := s.spec.CheckSend(req.Get); len(vs) > 0 {
		in.Invalid = &store.Verdict{Layer: smartappmock.LayerBusiness, Code: smartappmock.ErrnoInvalidParam, Reason: spec.Join(vs)}
	}
	openID := req.OpenID.Text
	if s.cfg.Policy.MagicValues && strings.HasPrefix(openID, magicOpenIDPrefix) {
		if n, err := strconv.Atoi(openID[len(magicOpenIDPrefix):]); err == nil && n != 0 {
			if _, ok := s.spec.Catalogue().BusinessMessage(n); ok {
				in.Magic = &store.Verdict{Layer: smartappmock.LayerBusiness, Code: n, Reason: "magic open_id " + openID, Rule: "magic:" + openID,
					Warnings: []store.Warning{WarnMagicValue.Warning()}}
			}
		}
	}
	for _, ca := range s.listApps {
		var reason string
		if slices.Contains(ca.ForeignOpenIDs, openID) {
			reason = "open_id: belongs to another mini program (foreign_open_ids)"
		} else if len(ca.OpenIDs) > 0 && !slices.Contains(ca.OpenIDs, openID) {
			reason = "open_id: not a user of app " + ca.ID + " (open_ids)"
		} else {
			continue
		}
		if in.OpenIDs == nil {
			in.OpenIDs = map[string]store.Verdict{}
		}
		in.OpenIDs[ca.ID] = store.Verdict{Layer: smartappmock.LayerBusiness, Code: smartappmock.ErrnoInvalidOpenID, Reason: reason}
	}
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
