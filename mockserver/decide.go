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
func (s *Server) decideSend(r *http.Request, req *smartappmock.SendRequest, p *params, now time.Time, e *store.Entry) verdict {
	v := verdict{appTime: now}
	token := req.AccessToken.Text
	openID := req.OpenID.Text
	in := store.SendInput{Now: now, Token: token, Limits: s.limits, BeforeKinds: s.beforeKinds, Window: s.window,
		Match: store.SendMatch{Token: token, OpenID: openID, MsgType: req.MsgType.Text, Content: req.Content.Text}}
	if len(p.notes) > 0 {
		in.Notes = "; " + strings.Join(p.notes, "; ")
	}
	if p.lenient {
		in.Warnings = []store.Warning{{Kind: WarnLenientJSON, Message: "body: a form labelled JSON was read only thanks to lenient_json"}}
	}
	in.TokenVerdict = s.tokenGate(token)
	if token != "" {
		v.token = RedactToken(token)
	}
	if in.TokenVerdict == nil {
		in.Sandbox = s.cfg.Policy.Tokens == config.TokensSandbox
		in.BaiduShaped = baiduShaped(token)
		if in.Sandbox && !in.BaiduShaped {
			in.SandboxApp = SandboxAppID(token)
		}
		s.businessInput(req, p, &in)
	}
	if s.cfg.Policy.MagicValues && strings.HasPrefix(openID, magicFaultPrefix) {
		if plan, ok := magicFault(openID); ok {
			v.fault, v.faulted, v.phase = plan, true, faultPhase(plan)
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
			DripInterval: time.Duration(pf.Fault.DripInterval), DripBytes: pf.Fault.DripBytes}
		v.faulted, v.phase = true, faultPhase(v.fault)
	}
	if res.Stopped {
		v.Decision = gateway(smartappmock.CodeUnavailable, "fault "+v.fault.Describe()+" struck before the service: nothing was counted"+in.Notes)
		v.Warnings = res.Warnings
		return v
	}
	v.Decision = Decision{Layer: res.Layer, Code: res.Code, Reason: res.Reason, Rule: res.Rule, Warnings: res.Warnings}
	return v
}

// tokenGate is the stateless check of a token: missing, or a magic token error_code_<N>. It
// returns nil when the store must look the token up.
func (s *Server) tokenGate(token string) *store.Verdict {
	if token == "" {
		return &store.Verdict{Layer: smartappmock.LayerGateway, Code: smartappmock.CodeInvalidParameter, Reason: "access_token: missing from the query and the body"}
	}
	if s.cfg.Policy.MagicValues && strings.HasPrefix(token, magicTokenPrefix) {
		if n, err := strconv.Atoi(token[len(magicTokenPrefix):]); err == nil {
			if _, ok := s.spec.Catalogue().GatewayMessage(n); ok {
				return &store.Verdict{Layer: smartappmock.LayerGateway, Code: n, Reason: "magic access_token " + token, Rule: "magic:" + token,
					Warnings: []store.Warning{{Kind: WarnMagicValue, Message: "answer forced by the magic access_token " + clipCopy(token) + " (Baidu has no magic values)"}}}
			}
		}
	}
	return nil
}

// businessInput fills the stateless verdicts of the business layer: the parameters refused by
// UTF-8 or openapi.yaml (3001), a magic open_id errno_<N>, and the configured apps whose open_id
// lists refuse the open_id.
func (s *Server) businessInput(req *smartappmock.SendRequest, p *params, in *store.SendInput) {
	if name := p.invalidUTF8(); name != "" {
		in.Invalid = &store.Verdict{Layer: smartappmock.LayerBusiness, Code: smartappmock.ErrnoInvalidParam, Reason: name + ": not valid UTF-8"}
	} else if vs := s.spec.CheckSend(req.Get); len(vs) > 0 {
		in.Invalid = &store.Verdict{Layer: smartappmock.LayerBusiness, Code: smartappmock.ErrnoInvalidParam, Reason: spec.Join(vs)}
	}
	openID := req.OpenID.Text
	if s.cfg.Policy.MagicValues && strings.HasPrefix(openID, magicOpenIDPrefix) {
		if n, err := strconv.Atoi(openID[len(magicOpenIDPrefix):]); err == nil && n != 0 {
			if _, ok := s.spec.Catalogue().BusinessMessage(n); ok {
				in.Magic = &store.Verdict{Layer: smartappmock.LayerBusiness, Code: n, Reason: "magic open_id " + openID, Rule: "magic:" + openID,
					Warnings: []store.Warning{{Kind: WarnMagicValue, Message: "answer forced by the magic open_id " + clipCopy(openID) + " (Baidu has no magic values)"}}}
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
