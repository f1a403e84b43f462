package mockserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver/params"
	"github.com/smartappmock/smartappmock/store"
)

// The third-party platform (第三方平台) and its tokens, as Baidu's Go and Java SDKs drive them:
//
//  1. GET TPTokenPath?client_id=<platform key>&ticket=<ticket> answers a platform token (42.,
//     30 days) in a business envelope (serveTPToken).
//  2. GET PreAuthCodePath?access_token=42.… answers a pre-authorization code (servePreAuthCode).
//     The mini program's admin would consent in Baidu's console; here the admin API's
//     POST /__admin/platforms/{platform}/authorize {"app":"…"} stands in for the consent and
//     answers an authorization code (AuthorizePlatform).
//  3. GET TPOAuthPath?access_token=42.…&grant_type=app_to_tp_authorization_code&code=… answers an
//     authorizer token (45., 1 hour, the app's clock) and its refresh token (46., 10 years, single
//     use); grant_type=app_to_tp_refresh_token&refresh_token=46.… refreshes once (serveTPOAuth).
//  4. The authorizer token sends on SendByTPPath; CheckPlatformGrant decides whether its platform
//     may send for the app.
//
// Which platform a token or code belongs to travels in the value itself: the last 16 of its 32 hex
// digits are PlatformTag(key), so store.Token needs no field of its own, every replica reads it
// without another store call, and a token still has Baidu's shape. Platform tokens are stored
// with App store.NoApp; authorization codes under "tp-code:<code>" as refresh tokens of their app
// (never usable as an access token); single use is one atomic TakeCount of NoApp.

// Token prefixes of the third-party platform.
const (
	prefixPlatformToken   = "42."
	prefixAuthorizerToken = "45."
	prefixAuthorizerRefr  = "46."
	tpScope               = "smartapp_tp_smtapp_common public"
	tpCodeKey             = "tp-code:"
	// AuthorizationCodeExpiresIn is how long an authorization code of AuthorizePlatform can be
	// exchanged (20 minutes, as a pre-authorization code; Baidu does not document it).
	AuthorizationCodeExpiresIn = 1200
)

// AuthorizerToken reports whether a token is an authorizer token (45.): the only kind sendbytp
// takes, and a kind custom/send refuses (110).
func AuthorizerToken(token string) bool { return strings.HasPrefix(token, prefixAuthorizerToken) }

// PlatformTag is the 16 hex digits that mark the tokens and codes of a platform key.
func PlatformTag(key string) string {
	sum := sha256.Sum256([]byte("smartappmock-platform:" + key))
	return hex.EncodeToString(sum[:8])
}

// tagOf returns the platform tag of a token or code minted by tpValue, "" when it has none.
func tagOf(v string) string {
	if i := strings.IndexByte(v, '.'); i >= 0 && i <= 3 {
		v = v[i+1:]
	}
	if len(v) < 32 {
		return ""
	}
	hexPart := v[:32]
	if j := strings.IndexByte(v, '.'); j >= 0 && j != 32 {
		return ""
	}
	return hexPart[16:]
}

// tpValue mints "<prefix>.<16 random hex><tag>.<expires>.<unix time>.282335-<suffix>".
func tpValue(prefix string, tag string, expires int, issued time.Time, suffix string) string {
	return prefix + randomHex(8) + tag + "." + strconv.Itoa(expires) + "." + strconv.FormatInt(issued.Unix(), 10) + ".282335-" + suffix
}

// platformOfTag returns the configured platform whose tag is tag.
func (s *Server) platformOfTag(tag string) (config.Platform, bool) {
	for _, p := range s.cfg.Platforms {
		if PlatformTag(p.Key) == tag {
			return p, true
		}
	}
	return config.Platform{}, false
}

// sandboxPlatforms reports whether a platform key that is not configured is accepted (with
// WarnSandboxPlatform): under policy apps sandbox, as an unknown client_id is.
func (s *Server) sandboxPlatforms() bool { return s.cfg.Policy.Apps == config.AppsSandbox }

// CheckPlatformGrant decides whether the platform that holds an authorizer token may send
// customer-service messages for app (sendbytp). It returns ok false with the business decision to
// answer (Policy.MissingGrantErrno, 90002 by default) when a configured app did not grant a
// configured platform; a platform that is not configured (accepted by the sandbox) passes with
// WarnSandboxPlatform. A send's decision applies its refusal after the capability check, before the
// window (decideService, decide.go).
func (s *Server) CheckPlatformGrant(token, app string) (d Decision, ok bool, warnings []store.Warning) {
	tag := tagOf(token)
	p, configured := s.platformOfTag(tag)
	if !configured {
		return Decision{}, true, []store.Warning{WarnSandboxPlatform.Warning()}
	}
	a, appConfigured := s.apps[app]
	if !appConfigured || a.GrantsPlatform(p.Key) {
		return Decision{}, true, nil
	}
	return business(s.cfg.Policy.MissingGrantErrno, fmt.Sprintf("platform %q: app %s did not grant it the customer-service permission (apps[].platforms)", p.Key, app)), false, nil
}

// tpEntry starts the journal entry of a third-party token request.
func (s *Server) tpEntry(r *http.Request, endpoint string, start time.Time, p *params.Params) store.Entry {
	return store.Entry{ID: s.newID(), Time: start, AppTime: start, Endpoint: endpoint, Method: journalMethod(r.Method), Path: journalPath(r.URL.Path),
		ContentType: journalContentType(r.Header.Get("Content-Type")), Status: http.StatusOK, Params: p.Journal()}
}

// tpParams reads the parameters of a third-party token request: the query (Baidu's SDKs send GET).
func (s *Server) tpParams(r *http.Request) *params.Params {
	return params.Parse(r.URL.RawQuery, "", nil, false)
}

// tpGateway answers a third-party token request with a gateway envelope and journals it.
func (s *Server) tpGateway(w http.ResponseWriter, r *http.Request, e store.Entry, code int, reason string, start time.Time) {
	d := gateway(code, reason)
	e.Layer, e.Code, e.Reason = d.Layer, d.Code, d.Reason
	s.record(r.Context(), e, start)
	s.writeEnvelope(w, d, e.ID)
}

// tpRefuse answers a third-party platform errno (x-smartapp-codes.platform) in a business
// envelope with an empty data, {"errno":40001,"msg":"参数错误","data":{}}, after journaling it.
func (s *Server) tpRefuse(w http.ResponseWriter, r *http.Request, e store.Entry, errno int, reason string, start time.Time) {
	msg, _ := s.spec.Catalogue().PlatformMessage(errno)
	e.Layer, e.Code, e.Reason = smartappmock.LayerBusiness, errno, reason
	s.tpAnswer(w, r, e, mustJSON(tpEnvelope{Errno: errno, Msg: msg, Data: map[string]any{}}), start)
}

// tpAnswer writes a successful answer of a third-party token endpoint (body is JSON) with the
// fake's headers, warnings included, after journaling it.
func (s *Server) tpAnswer(w http.ResponseWriter, r *http.Request, e store.Entry, body []byte, start time.Time) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set(smartappmock.HeaderRequestID, e.ID)
	h.Set(smartappmock.HeaderReason, HeaderSafe(e.Reason))
	if e.Layer == smartappmock.LayerOAuth {
		h.Set(smartappmock.HeaderOutcome, "oauth ok")
	} else {
		h.Set(smartappmock.HeaderOutcome, string(e.Layer)+" "+strconv.Itoa(e.Code))
	}
	for _, wn := range e.Warnings {
		h.Add(smartappmock.HeaderWarning, wn.Message)
	}
	s.record(r.Context(), e, start)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// serveTPToken answers TPTokenPath: a platform token (42.) for a platform key and its ticket. A
// configured platform needs its ticket (and its secret, when the client sends one); under policy
// apps sandbox any other key and ticket work, with WarnSandboxPlatform. Errors are business
// envelopes of the platform's errno table, as Baidu documents its third-party answers: 40001 参数错误
// for a missing or wrong key, ticket or secret (tpRefuse). A store failure stays gateway 2.
func (s *Server) serveTPToken(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	p := s.tpParams(r)
	e := s.tpEntry(r, "tp_token", start, p)
	key, _ := p.Get("client_id")
	ticket, _ := p.Get("ticket")
	secret, secretSent := p.Get("client_secret")
	refuse := func(reason string) { s.tpRefuse(w, r, e, smartappmock.ErrnoTPInvalidParameter, reason, start) }
	switch {
	case key == "":
		refuse("client_id: missing (the platform key)")
		return
	case len(key) > MaxClientID:
		refuse(fmt.Sprintf("client_id: longer than %d bytes (%d)", MaxClientID, len(key)))
		return
	case ticket == "":
		refuse("ticket: missing (the ticket Baidu pushes to the platform)")
		return
	}
	if pl, ok := s.cfg.Platform(key); ok {
		switch {
		case ticket != pl.Ticket:
			refuse("ticket: not the platform's ticket (platforms[].ticket)")
			return
		case secretSent && secret != pl.Secret:
			refuse("client_secret: does not match the platform's secret")
			return
		}
	} else if !s.sandboxPlatforms() {
		refuse("client_id: " + strconv.Quote(key) + " is not a configured platform (policy apps: configured)")
		return
	} else {
		e.Warnings = append(e.Warnings, WarnSandboxPlatform.Warning())
	}
	token := tpValue(prefixPlatformToken, PlatformTag(key), smartappmock.TPTokenExpiresIn, start, "tp")
	if err := s.store.PutToken(r.Context(), store.Token{Value: token, App: store.NoApp, Issued: start,
		Expires: start.Add(smartappmock.TPTokenExpiresIn * time.Second)}); err != nil {
		s.tpGateway(w, r, e, smartappmock.CodeUnavailable, "store: "+err.Error(), start)
		return
	}
	e.Layer, e.Code, e.Token = smartappmock.LayerBusiness, smartappmock.ErrnoOK, RedactToken(token)
	e.Reason = "issued a platform token to " + strconv.Quote(key)
	s.tpAnswer(w, r, e, mustJSON(tpEnvelope{Errno: 0, Msg: "success", Data: map[string]any{
		"access_token": token, "expires_in": smartappmock.TPTokenExpiresIn, "scope": tpScope,
	}}), start)
}

// tpEnvelope is the business envelope of the third-party token endpoints, data included.
type tpEnvelope struct {
	Errno int            `json:"errno"`
	Msg   string         `json:"msg"`
	Data  map[string]any `json:"data"`
}

// platformToken checks a platform token (42.) on the server clock. It returns the token's tag,
// the gateway code and reason of a refusal (code 0: accepted), and the warnings of a sandbox
// platform.
func (s *Server) platformToken(ctx context.Context, token string, now time.Time) (tag string, code int, reason string, warnings []store.Warning) {
	if token == "" {
		return "", smartappmock.CodeInvalidParameter, "access_token: missing (the platform token, 42.)", nil
	}
	if !strings.HasPrefix(token, prefixPlatformToken) {
		return "", smartappmock.CodeInvalidAccessToken, "access_token: not a platform token (42.)", nil
	}
	tok, found, err := s.store.Token(ctx, token)
	switch {
	case err != nil:
		return "", smartappmock.CodeUnavailable, "store: " + err.Error(), nil
	case !found || tok.App != store.NoApp || tok.Refresh:
		return "", smartappmock.CodeInvalidAccessToken, "access_token: platform token not issued by this fake", nil
	case !tok.Expires.IsZero() && !now.Before(tok.Expires):
		return "", smartappmock.CodeAccessTokenExpired, "access_token: platform token expired at " + tok.Expires.Format(time.RFC3339), nil
	}
	tag = tagOf(token)
	if _, ok := s.platformOfTag(tag); !ok {
		warnings = []store.Warning{WarnSandboxPlatform.Warning()}
	}
	return tag, 0, "", warnings
}

// servePreAuthCode answers PreAuthCodePath: a pre-authorization code (20 minutes) for a platform
// token. The fake keeps no state for it: the consent it would lead to is the admin API's
// AuthorizePlatform.
func (s *Server) servePreAuthCode(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	p := s.tpParams(r)
	e := s.tpEntry(r, "tp_preauthcode", start, p)
	token, _ := p.Get(smartappmock.ParamAccessToken)
	e.Token = RedactToken(token)
	tag, code, reason, warnings := s.platformToken(r.Context(), token, start)
	if code != 0 {
		s.tpGateway(w, r, e, code, reason, start)
		return
	}
	e.Warnings = warnings
	e.Layer, e.Code, e.Reason = smartappmock.LayerBusiness, smartappmock.ErrnoOK, "issued a pre-authorization code"
	s.tpAnswer(w, r, e, mustJSON(tpEnvelope{Errno: 0, Msg: "success", Data: map[string]any{
		"pre_auth_code": randomHex(8) + tag, "expires_in": smartappmock.PreAuthCodeExpiresIn,
	}}), start)
}

// ErrUnknownPlatform is returned (wrapped) by AuthorizePlatform for a platform key it refuses.
var ErrUnknownPlatform = errors.New("unknown platform")

// AuthorizePlatform stands in for the consent of a mini program's admin in Baidu's console: app
// authorizes platform (its key), and the answer is an authorization code for TPOAuthPath, valid
// AuthorizationCodeExpiresIn seconds on the app's clock, once. A platform that is not configured
// is accepted under policy apps sandbox, with WarnSandboxPlatform. Whether the grant includes
// customer service is the configuration's (apps[].platforms; see CheckPlatformGrant).
func (s *Server) AuthorizePlatform(ctx context.Context, platform, app string) (code string, warnings []store.Warning, err error) {
	if platform == "" || len(platform) > MaxClientID {
		return "", nil, fmt.Errorf("%w: want a platform key of 1 to %d bytes", ErrUnknownPlatform, MaxClientID)
	}
	if _, ok := s.cfg.Platform(platform); !ok {
		if !s.sandboxPlatforms() {
			return "", nil, fmt.Errorf("%w %q: not configured (policy apps: configured)", ErrUnknownPlatform, platform)
		}
		warnings = append(warnings, WarnSandboxPlatform.Warning())
	}
	a, found, err := s.store.App(ctx, app)
	if err != nil {
		return "", nil, err
	}
	if !found {
		return "", nil, fmt.Errorf("%w %q", store.ErrUnknownApp, app)
	}
	appNow := a.Now(s.now())
	code = randomHex(8) + PlatformTag(platform)
	err = s.store.PutToken(ctx, store.Token{Value: tpCodeKey + code, App: a.ID, Refresh: true, Issued: appNow,
		Expires: appNow.Add(AuthorizationCodeExpiresIn * time.Second)})
	if err != nil {
		return "", nil, err
	}
	// The authorization RetrieveAuthCode finds (tplookup.go).
	if err := s.store.PutRecord(ctx, a.ID, store.Record{Kind: kindTPAuth, ID: PlatformTag(platform), Data: []byte("{}")}); err != nil {
		return "", nil, err
	}
	return code, warnings, nil
}

// serveTPOAuth answers TPOAuthPath: an authorization code (app_to_tp_authorization_code) or a
// refresh token (app_to_tp_refresh_token, single use) of the platform whose token (42.) comes
// with it, for a fresh authorizer token (45.) and refresh token (46.). Errors are OAuth errors
// (HTTP 400), as Baidu documents for this endpoint.
func (s *Server) serveTPOAuth(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	p := s.tpParams(r)
	e := s.tpEntry(r, "tp_oauth", start, p)
	e.Layer = smartappmock.LayerOAuth
	ctx := r.Context()
	grant, _ := p.Get("grant_type")
	switch grant {
	case "":
		s.oauthError(w, r, &e, "missing_grant_type", "grant_type: missing", start)
		return
	case smartappmock.GrantAppToTPCode, smartappmock.GrantAppToTPRefresh:
	default:
		s.oauthError(w, r, &e, "unsupported_grant_type", "grant_type: "+strconv.Quote(grant)+" is not supported (use "+smartappmock.GrantAppToTPCode+" or "+smartappmock.GrantAppToTPRefresh+")", start)
		return
	}
	platformTok, _ := p.Get(smartappmock.ParamAccessToken)
	tag, code, reason, warnings := s.platformToken(ctx, platformTok, start)
	if code != 0 {
		s.oauthError(w, r, &e, "invalid_platform_token", reason, start)
		return
	}
	e.Warnings = warnings
	// The grant: a code or a refresh token of this platform, not expired on its app's clock, used
	// once (one atomic count, so two concurrent exchanges cannot both win).
	caseID, name, key, display := "invalid_code", "code", "", ""
	if grant == smartappmock.GrantAppToTPCode {
		display, _ = p.Get("code")
		key = tpCodeKey + display
	} else {
		caseID, name = "invalid_refresh_token", "refresh_token"
		display, _ = p.Get("refresh_token")
		key = display
		if !strings.HasPrefix(display, prefixAuthorizerRefr) {
			s.oauthError(w, r, &e, caseID, "refresh_token: not an authorizer refresh token (46.)", start)
			return
		}
	}
	if display == "" {
		s.oauthError(w, r, &e, caseID, name+": missing", start)
		return
	}
	old, found, err := s.store.Token(ctx, key)
	if err != nil || !found || !old.Refresh || old.App == store.NoApp {
		s.oauthError(w, r, &e, caseID, name+": not issued by this fake", start)
		return
	}
	if tagOf(display) != tag {
		s.oauthError(w, r, &e, caseID, name+": issued to another platform", start)
		return
	}
	app, found, err := s.store.App(ctx, old.App)
	if err != nil || !found {
		s.oauthError(w, r, &e, caseID, name+": its app "+old.App+" is gone", start)
		return
	}
	e.App = app.ID
	appNow, err := store.AppNow(ctx, s.store, app, start)
	if err != nil {
		s.oauthError(w, r, &e, caseID, "store: "+err.Error(), start)
		return
	}
	e.AppTime = appNow
	if !old.Expires.IsZero() && !appNow.Before(old.Expires) {
		s.oauthError(w, r, &e, caseID, name+": expired or already used", start)
		return
	}
	if _, first, err := s.store.TakeCount(ctx, store.NoApp, "tp-once:"+tokenHash(key), "once", 1); err != nil || !first {
		s.oauthError(w, r, &e, caseID, name+": already used (single use)", start)
		return
	}
	old.Value, old.Expires = key, appNow // dead from now on, also after an app reset drops the count
	access := tpValue(prefixAuthorizerToken, tag, smartappmock.AuthorizerTokenExpiresIn, appNow, app.ID)
	refresh := tpValue(prefixAuthorizerRefr, tag, smartappmock.AuthorizerRefreshExpiresIn, appNow, app.ID)
	for _, t := range []store.Token{
		old,
		{Value: access, App: app.ID, Issued: appNow, Expires: appNow.Add(smartappmock.AuthorizerTokenExpiresIn * time.Second)},
		{Value: refresh, App: app.ID, Refresh: true, Issued: appNow, Expires: appNow.Add(smartappmock.AuthorizerRefreshExpiresIn * time.Second)},
	} {
		if err := s.store.PutToken(ctx, t); err != nil {
			s.oauthError(w, r, &e, caseID, "store: "+err.Error(), start)
			return
		}
	}
	e.Token = RedactToken(access)
	e.Status = http.StatusOK
	e.Reason = "issued an authorizer token of app " + app.ID + " by " + name
	s.tpAnswer(w, r, e, mustJSON(smartappmock.AuthorizerTokenResponse{
		AccessToken: access, RefreshToken: refresh, ExpiresIn: smartappmock.AuthorizerTokenExpiresIn,
	}), start)
}
