package mockserver

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/internal/spec"
)

// beijing is the time zone of the real service's daily limits (UTC+8, no DST).
var beijing = time.FixedZone("CST", 8*3600)

const (
	magicOpenIDPrefix = "errno_"
	magicTokenPrefix  = "error_code_"
	sandboxTokenApp   = "token-"
)

// answer is the outcome of a pipeline step.
type answer struct {
	layer  smartappmock.Layer
	code   int
	reason string
	rule   string
}

// serveSend runs the send pipeline: parameters, gateway layer (token, gateway rules, limits), then
// business layer (validation, rules and magic values, open_id, capability, window).
func (s *Server) serveSend(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	id := s.newID()
	cfg := s.cfg.Load()
	e := Entry{ID: id, Time: start, AppTime: start, Endpoint: "send", Method: r.Method, Path: r.URL.Path,
		ContentType: r.Header.Get("Content-Type"), Status: http.StatusOK}

	body, err := readBody(r)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		a := answer{layer: smartappmock.LayerBusiness, code: smartappmock.ErrnoInvalidParam,
			reason: fmt.Sprintf("body: larger than %d bytes", MaxBodyBytes)}
		s.finishSend(w, r, &e, a, nil, start)
		return
	}
	p := parseParams(r.URL.RawQuery, e.ContentType, body, cfg.Policy.LenientJSON)
	a := s.sendDecision(r, cfg, p, start, &e)
	s.finishSend(w, r, &e, a, p, start)
}

func (s *Server) finishSend(w http.ResponseWriter, r *http.Request, e *Entry, a answer, p *params, start time.Time) {
	if p != nil {
		e.Params = redactParams(p.all)
		e.OpenID, _ = p.get(smartappmock.ParamOpenID)
		e.MsgType, _ = p.get(smartappmock.ParamMsgType)
		if len(p.notes) > 0 && a.code != 0 {
			a.reason = strings.Join(append([]string{a.reason}, p.notes...), "; ")
		}
	} else {
		e.Params = []Param{}
	}
	e.Layer, e.Code, e.Reason, e.Rule = a.layer, a.code, a.reason, a.rule
	if plan, ok := s.pickFault(e, p); ok {
		s.serveFault(w, r, e, a, plan, start)
		return
	}
	// The entry is in the journal before the client has its answer, so a client that reads the
	// journal right after a send always finds it.
	s.record(r, *e, start)
	s.writeEnvelope(w, a.layer, a.code, a.reason, e.ID)
}

// sendDecision decides the answer to a send. It fills the entry's app, token and app time.
func (s *Server) sendDecision(r *http.Request, cfg *config.Config, p *params, now time.Time, e *Entry) answer {
	ctx := r.Context()
	gw := func(code int, reason string) answer {
		return answer{layer: smartappmock.LayerGateway, code: code, reason: reason}
	}
	biz := func(code int, reason string) answer {
		return answer{layer: smartappmock.LayerBusiness, code: code, reason: reason}
	}

	// Gateway layer: the token.
	token, _ := p.get(smartappmock.ParamAccessToken)
	if token == "" {
		return gw(smartappmock.CodeInvalidParameter, "access_token: missing from the query and the body")
	}
	e.Token = redactToken(token)
	if cfg.Policy.MagicValues && strings.HasPrefix(token, magicTokenPrefix) {
		if n, err := strconv.Atoi(token[len(magicTokenPrefix):]); err == nil {
			if _, ok := s.spec.Catalogue().GatewayMessage(n); ok {
				a := gw(n, "magic access_token "+token)
				a.rule = "magic:" + token
				return a
			}
		}
	}
	app, a, ok := s.appForToken(r, cfg, token, now)
	if !ok {
		return a
	}
	e.App = app.ID
	appNow := s.appNow(now, app)
	e.AppTime = appNow

	openID, _ := p.get(smartappmock.ParamOpenID)
	msgType, _ := p.get(smartappmock.ParamMsgType)
	content, _ := p.get(smartappmock.ParamContent)
	req := ruleInput{app: app.ID, token: token, openID: openID, msgType: msgType, content: content}

	// Gateway rules, then limits (QPS first: a request refused for QPS does not count toward the day).
	rs := s.rules.Load()
	rule, err := rs.match(ctx, s.store, req, smartappmock.LayerGateway)
	if err != nil {
		return gw(smartappmock.CodeUnavailable, "store: "+err.Error())
	}
	if rule != nil {
		a := gw(*rule.Answer.ErrorCode, "rule "+rule.label)
		a.rule = rule.label
		return a
	}
	limits := cfg.AppLimits(s.apps[app.ID]) // a sandbox app has no config: the policy's limits
	if limits.QPS > 0 {
		sec := strconv.FormatInt(appNow.Unix(), 10)
		n, ok, err := s.store.TakeCount(ctx, app.ID, "qps", sec, limits.QPS)
		if err != nil {
			return gw(smartappmock.CodeUnavailable, "store: "+err.Error())
		}
		if !ok {
			return gw(smartappmock.CodeQPSLimit, fmt.Sprintf("qps limit: %d of %d requests used in second %s (app clock)", n, limits.QPS, sec))
		}
	}

	if limits.Daily > 0 {
		day := appNow.In(beijing).Format("2006-01-02")
		n, ok, err := s.store.TakeCount(ctx, app.ID, "daily", day, limits.Daily)
		if err != nil {
			return gw(smartappmock.CodeUnavailable, "store: "+err.Error())
		}
		if !ok {
			return gw(smartappmock.CodeDailyLimit, fmt.Sprintf("daily limit: %d of %d requests used on %s (Beijing time, app clock)", n, limits.Daily, day))
		}
	}
	// Business layer: validation by openapi.yaml.
	if name := p.invalidUTF8(); name != "" {
		return biz(smartappmock.ErrnoInvalidParam, name+": not valid UTF-8")
	}
	if vs := s.spec.CheckSend(p.get); len(vs) > 0 {
		return biz(smartappmock.ErrnoInvalidParam, spec.Join(vs))
	}
	rule, err = rs.match(ctx, s.store, req, smartappmock.LayerBusiness)
	if err != nil {
		return gw(smartappmock.CodeUnavailable, "store: "+err.Error())
	}
	if rule != nil {
		a := biz(*rule.Answer.Errno, "rule "+rule.label)
		a.rule = rule.label
		return a
	}
	if cfg.Policy.MagicValues && strings.HasPrefix(openID, magicOpenIDPrefix) {
		if n, err := strconv.Atoi(openID[len(magicOpenIDPrefix):]); err == nil && n != 0 {
			if _, ok := s.spec.Catalogue().BusinessMessage(n); ok {
				a := biz(n, "magic open_id "+openID)
				a.rule = "magic:" + openID
				return a
			}
		}
	}
	if ca, ok := s.apps[app.ID]; ok {
		if slices.Contains(ca.ForeignOpenIDs, openID) {
			return biz(smartappmock.ErrnoInvalidOpenID, "open_id: belongs to another mini program (foreign_open_ids)")
		}
		if len(ca.OpenIDs) > 0 && !slices.Contains(ca.OpenIDs, openID) {
			return biz(smartappmock.ErrnoInvalidOpenID, "open_id: not a user of app "+app.ID+" (open_ids)")
		}
	}
	if !app.Capability {
		return biz(smartappmock.ErrnoCapabilityDisabled, "customer-service capability is off for app "+app.ID)
	}
	win := cfg.Policy.Window
	dec, err := s.store.TakeReply(ctx, app.ID, openID, appNow, WindowRule{
		Duration: time.Duration(win.Duration), MaxReplies: win.MaxReplies, OpenOnFirst: win.Mode == config.WindowOpenOnFirstSend,
	})
	if err != nil {
		return gw(smartappmock.CodeUnavailable, "store: "+err.Error())
	}
	if !dec.OK {
		return biz(smartappmock.ErrnoQuotaExceeded, "window: "+dec.Reason)
	}
	return biz(smartappmock.ErrnoOK, "window: "+dec.Reason)
}

// appForToken finds the app of a token: issued or configured tokens first, then (policy sandbox)
// any other token becomes its own app.
func (s *Server) appForToken(r *http.Request, cfg *config.Config, token string, now time.Time) (AppState, answer, bool) {
	ctx := r.Context()
	fail := func(code int, reason string) (AppState, answer, bool) {
		return AppState{}, answer{layer: smartappmock.LayerGateway, code: code, reason: reason}, false
	}
	tok, found, err := s.store.Token(ctx, token)
	if err != nil {
		return fail(smartappmock.CodeUnavailable, "store: "+err.Error())
	}
	if found && !tok.Refresh {
		app, ok, err := s.store.App(ctx, tok.App)
		if err != nil {
			return fail(smartappmock.CodeUnavailable, "store: "+err.Error())
		}
		if !ok {
			return fail(smartappmock.CodeInvalidAccessToken, "access_token: its app "+tok.App+" is gone")
		}
		appNow := s.appNow(now, app)
		if !tok.Expires.IsZero() && !appNow.Before(tok.Expires) {
			return fail(smartappmock.CodeAccessTokenExpired, fmt.Sprintf("access_token: expired at %s (app clock %s)", tok.Expires.Format(time.RFC3339), appNow.Format(time.RFC3339)))
		}
		return app, answer{}, true
	}
	if found && tok.Refresh {
		return fail(smartappmock.CodeInvalidAccessToken, "access_token: this is a refresh token; send the access_token")
	}
	if cfg.Policy.Tokens != config.TokensSandbox {
		return fail(smartappmock.CodeInvalidAccessToken, "access_token: not issued by this fake (policy tokens: issued)")
	}
	if baiduShaped(token) {
		// A token of Baidu's shape that this fake did not issue is stale (an earlier run, another
		// fake) or forged: the real service answers 110, so a sandbox must too, or a client that
		// never refreshes would pass here and fail against Baidu.
		return fail(smartappmock.CodeInvalidAccessToken, "access_token: has Baidu's shape but was not issued by this fake (stale from an earlier run?); get a new one")
	}
	id := sandboxTokenApp + tokenHash(token)
	app, _, err := s.store.RegisterApp(ctx, AppState{ID: id, Source: "sandbox-token", Capability: true})
	if err != nil {
		return fail(smartappmock.CodeUnavailable, "store: "+err.Error())
	}
	return app, answer{}, true
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

// redactParams copies parameters with secrets replaced.
func redactParams(in []Param) []Param {
	out := make([]Param, len(in))
	copy(out, in)
	for i := range out {
		switch out[i].Name {
		case smartappmock.ParamAccessToken:
			out[i].Value = redactToken(out[i].Value)
		case "client_secret":
			out[i].Value = "<redacted>"
		default:
			out[i].Value = clip(out[i].Value)
		}
	}
	return out
}

// MaxJournalValue is the longest parameter value the journal keeps (4 KiB); a longer one is cut at
// a UTF-8 boundary and marked, so the journal's memory is bounded by its entry cap even when every
// request carries a 1 MiB body.
const MaxJournalValue = 4096

// clip shortens a value to MaxJournalValue bytes, saying how long it was.
func clip(v string) string {
	if len(v) <= MaxJournalValue {
		return v
	}
	cut := MaxJournalValue
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…(" + strconv.Itoa(len(v)) + " bytes, cut)"
}
