package mockserver

import (
	"context"
	"net/http"
	"strconv"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/internal/spec"
	"github.com/smartappmock/smartappmock/store"
)

// The login and UnionID endpoints (docs/users-and-login.md), on the shared pipeline
// (apicall.go). A user's login code (users.go) is exchanged once for the user's open_id and the
// session_key the code was issued with:
//
//   - v1, JSCode2SessionKeyPath on spapi.baidu.com: code, client_id (the app key) and sk (its
//     secret), GET or POST, query or form. Flat success {"openid","session_key"} without errno
//     (Baidu's PHP SDK fails one with it); every error the spapi envelope
//     {"errno":10010100,"error":"parameter is invalid","error_description":…} [inf beyond a
//     missing parameter: the docs show no other row].
//   - v2, SessionKeyPath: the app's token (gateway layer as a send's) and code, GET or POST.
//     Success {"errno":0,"errmsg":"succ","msg":"succ","data":{"open_id","session_key"},…}; a
//     bad code errno 40001 参数错误 [inf: undocumented].
//   - the platform's TPSessionKeyPath: the authorizer token (45.), code and
//     grant_type=authorization_code; flat success; bad code or grant_type: OAuth errors, HTTP 400.
//   - UnionIDPath (form openid, the app's token): {"errno":0,"errmsg":"succ","data":{"unionid"}};
//     400 for a missing openid, one that is not the app's user, or a guest's [inf].
//   - the platform's TPUnionIDPath (query open_id, authorizer token): {"errno":0,"msg":"success",
//     "data":{"union_id"}}; 40001 otherwise [inf].
//
// Magic values (policy.magic_values): a code (or openid) errno_<N> answers the endpoint's errno N,
// fault_<kind> delivers the answer through that fault; access_token error_code_<N> as on a send.

var (
	loginV1Endpoint = &apiEndpoint{name: "login_v1", invalid: spapiInvalid, decide: (*Server).decideLoginV1}
	loginV2Endpoint = &apiEndpoint{name: "login_v2", invalid: v2Invalid, decide: (*Server).decideLoginV2}
	tpLoginEndpoint = &apiEndpoint{name: "tp_login", invalid: func(c *apiCall, reason string) reply {
		return c.oauthReply("missing_login_parameter", reason)
	}, decide: (*Server).decideTPLogin}
	unionIDEndpoint   = &apiEndpoint{name: "unionid", invalid: unionIDInvalid, decide: (*Server).decideUnionID}
	tpUnionIDEndpoint = &apiEndpoint{name: "tp_unionid", invalid: tpInvalid, decide: (*Server).decideTPUnionID}
)

// spapiInvalid is the v1 login's answer to a parameter error.
func spapiInvalid(c *apiCall, reason string) reply {
	return c.spapiReply(smartappmock.ErrnoSPAPIInvalidParameter, reason)
}

// spapiReply answers {"errno":N,"error":…,"error_description":reason}: the v1 login's envelope
// carries its reason in the body, as Baidu's does.
func (c *apiCall) spapiReply(errno int, reason string) reply {
	msg, ok := c.s.spec.Catalogue().LoginMessage(errno)
	if !ok {
		msg = "error"
	}
	d := business(errno, reason)
	return reply{status: http.StatusOK, d: d, body: mustJSON(smartappmock.SPAPIError{Errno: errno, Error: msg, ErrorDescription: reason})}
}

// v2Invalid is the v2 login's answer to a parameter error: 40001 参数错误 [inf].
func v2Invalid(c *apiCall, reason string) reply {
	return c.v2Reply(smartappmock.ErrnoTPInvalidParameter, reason, nil)
}

// v2Reply answers the smartapp REST envelope of the v2 login and getunionid: errno, errmsg and
// msg (the docs say errmsg, Baidu's SDKs read msg: both), data, request_id and timestamp.
func (c *apiCall) v2Reply(errno int, reason string, data map[string]any) reply {
	msg := "succ"
	if errno != 0 {
		var ok bool
		if msg, ok = c.s.spec.Catalogue().LoginMessage(errno); !ok {
			if msg, ok = c.s.spec.Catalogue().PlatformMessage(errno); !ok {
				msg = "error"
			}
		}
	}
	if data == nil {
		data = map[string]any{}
	}
	d := business(errno, reason)
	body := mustJSON(struct {
		Errno     int            `json:"errno"`
		Errmsg    string         `json:"errmsg"`
		Msg       string         `json:"msg"`
		Data      map[string]any `json:"data"`
		RequestID string         `json:"request_id"`
		Timestamp int64          `json:"timestamp"`
	}{errno, msg, msg, data, c.id, c.start.Unix()})
	return reply{status: http.StatusOK, d: d, body: body}
}

// unionIDInvalid is getunionid's answer to a parameter error (400).
func unionIDInvalid(c *apiCall, reason string) reply {
	return c.v2Reply(smartappmock.ErrnoUnionIDInvalidParameter, reason, nil)
}

// tpInvalid is a platform endpoint's answer to a parameter error: 40001 参数错误.
func tpInvalid(c *apiCall, reason string) reply {
	return c.tpReply(smartappmock.ErrnoTPInvalidParameter, reason, nil)
}

// tpReply answers the platform's envelope {"errno":N,"msg":…,"data":{…}}.
func (c *apiCall) tpReply(errno int, reason string, data map[string]any) reply {
	msg := "success"
	if errno != 0 {
		var ok bool
		if msg, ok = c.s.spec.Catalogue().PlatformMessage(errno); !ok {
			msg = "error"
		}
	}
	if data == nil {
		data = map[string]any{}
	}
	return reply{status: http.StatusOK, d: business(errno, reason), body: mustJSON(tpEnvelope{Errno: errno, Msg: msg, Data: data})}
}

// oauthReply answers an OAuth error of the catalogue (HTTP 400).
func (c *apiCall) oauthReply(caseID, reason string) reply {
	oc, _ := c.s.spec.Catalogue().OAuthError(caseID)
	d := Decision{Layer: smartappmock.LayerOAuth, Reason: reason}
	return reply{status: http.StatusBadRequest, d: d, oauthError: oc.Error,
		body: mustJSON(smartappmock.OAuthError{Error: oc.Error, ErrorDescription: oc.Description})}
}

// with returns rp with d's app, clock and warnings (the token's) under its own decision.
func (rp reply) with(d Decision) reply {
	rp.d.App, rp.d.AppTime = d.App, d.AppTime
	rp.d.Warnings = append(d.Warnings[:len(d.Warnings):len(d.Warnings)], rp.d.Warnings...)
	if rp.d.Fault == nil {
		rp.d.Fault = d.Fault
	}
	return rp
}

// serveLoginOp serves the login, UnionID and platform lookup operations of openapi.yaml; it
// returns false for any other operation.
func (s *Server) serveLoginOp(w http.ResponseWriter, r *http.Request, op string) bool {
	var ep *apiEndpoint
	switch op {
	case spec.OpLoginV1Query, spec.OpLoginV1Form:
		ep = loginV1Endpoint
	case spec.OpLoginV2Query, spec.OpLoginV2Form:
		ep = loginV2Endpoint
	case spec.OpTPLogin:
		ep = tpLoginEndpoint
	case spec.OpUnionID:
		ep = unionIDEndpoint
	case spec.OpTPUnionID, spec.OpTPUnionIDPost:
		ep = tpUnionIDEndpoint
	case spec.OpRetrieveCode:
		ep = retrieveCodeEndpoint
	case spec.OpAppInfo:
		ep = appInfoEndpoint
	default:
		return false
	}
	s.serveAPI(w, r, op, ep)
	return true
}

// decideLoginV1 decides the v1 login: the form, the app of client_id and its secret, the code.
func (s *Server) decideLoginV1(ctx context.Context, c *apiCall) (reply, error) {
	if reason := c.form(); reason != "" {
		return spapiInvalid(c, reason), nil
	}
	code, clientID, sk := c.get("code"), c.get("client_id"), c.get("sk")
	var app store.App
	var found bool
	var err error
	if a, ok := s.byClient[clientID]; ok {
		app, found, err = s.store.App(ctx, a.ID)
	} else {
		app, found, err = s.store.App(ctx, clientID) // a sandbox app's id is its client_id
		found = found && app.ClientID == clientID
	}
	if err != nil {
		return reply{}, err
	}
	if !found {
		return spapiInvalid(c, "client_id: "+strconv.Quote(clientID)+" is not an app of this fake (get a token with it first, or configure it)"), nil
	}
	d := Decision{App: app.ID}
	if d.AppTime, err = store.AppNow(ctx, s.store, app, c.start); err != nil {
		return reply{}, err
	}
	if sk != app.ClientSecret {
		return spapiInvalid(c, "sk: not the secret of client_id "+strconv.Quote(clientID)).with(d), nil
	}
	if n, plan := c.magic(code, func(n int) bool { _, ok := s.spec.Catalogue().LoginMessage(n); return ok }); n != 0 {
		rp := c.spapiReply(n, "")
		rp.d = magicDecision(rp.d, code)
		return rp.with(d), nil
	} else if plan != nil {
		d.Fault = plan
	}
	u, sessionKey, why, err := s.takeLoginCode(ctx, app.ID, code, d.AppTime)
	if err != nil {
		return reply{}, err
	}
	if why != "" {
		return spapiInvalid(c, why).with(d), nil
	}
	rp := reply{status: http.StatusOK, d: business(0, "login: open_id "+u.OpenID+" of app "+app.ID), openID: u.OpenID,
		body: mustJSON(smartappmock.SessionKeyResponse{OpenID: u.OpenID, SessionKey: sessionKey})}
	return rp.with(d), nil
}

// decideLoginV2 decides the v2 login: the app's token, the form, the code.
func (s *Server) decideLoginV2(ctx context.Context, c *apiCall) (reply, error) {
	app, d, refused, err := c.token(ctx, false)
	if err != nil || refused {
		return c.gatewayReply(d), err
	}
	if reason := c.form(); reason != "" {
		return v2Invalid(c, reason).with(d), nil
	}
	code := c.get("code")
	if n, plan := c.magic(code, s.knownRESTErrno); n != 0 {
		rp := c.v2Reply(n, "", nil)
		rp.d = magicDecision(rp.d, code)
		return rp.with(d), nil
	} else if plan != nil {
		d.Fault = plan
	}
	u, sessionKey, why, err := s.takeLoginCode(ctx, app.ID, code, d.AppTime)
	if err != nil {
		return reply{}, err
	}
	if why != "" {
		return v2Invalid(c, why).with(d), nil
	}
	rp := c.v2Reply(0, "login: open_id "+u.OpenID+" of app "+app.ID, map[string]any{"open_id": u.OpenID, "session_key": sessionKey})
	rp.openID = u.OpenID
	return rp.with(d), nil
}

// knownRESTErrno reports whether n is an errno of the login and UnionID endpoints or the platform's.
func (s *Server) knownRESTErrno(n int) bool {
	_, a := s.spec.Catalogue().LoginMessage(n)
	_, b := s.spec.Catalogue().PlatformMessage(n)
	return a || b
}

// decideTPLogin decides the platform's login: the authorizer token, grant_type, the code.
func (s *Server) decideTPLogin(ctx context.Context, c *apiCall) (reply, error) {
	app, d, refused, err := c.token(ctx, true)
	if err != nil || refused {
		return c.gatewayReply(d), err
	}
	grant, code := c.get("grant_type"), c.get("code")
	switch {
	case grant != "" && grant != "authorization_code":
		return c.oauthReply("unsupported_grant_type", "grant_type: "+strconv.Quote(grant)+" is not supported (use authorization_code)").with(d), nil
	case grant == "" || code == "":
		return c.oauthReply("missing_login_parameter", c.form()).with(d), nil
	}
	if _, plan := c.magic(code, func(int) bool { return false }); plan != nil {
		d.Fault = plan
	}
	u, sessionKey, why, err := s.takeLoginCode(ctx, app.ID, code, d.AppTime)
	if err != nil {
		return reply{}, err
	}
	if why != "" {
		return c.oauthReply("invalid_login_code", why).with(d), nil
	}
	rp := reply{status: http.StatusOK, d: business(0, "login: open_id "+u.OpenID+" of app "+app.ID+" (platform)"), openID: u.OpenID,
		body: mustJSON(smartappmock.SessionKeyResponse{OpenID: u.OpenID, SessionKey: sessionKey})}
	return rp.with(d), nil
}

// decideUnionID decides getunionid: the app's token, the form, the user.
func (s *Server) decideUnionID(ctx context.Context, c *apiCall) (reply, error) {
	app, d, refused, err := c.token(ctx, false)
	if err != nil || refused {
		return c.gatewayReply(d), err
	}
	if reason := c.form(); reason != "" {
		return unionIDInvalid(c, reason).with(d), nil
	}
	openID := c.get("openid")
	if n, plan := c.magic(openID, s.knownRESTErrno); n != 0 {
		rp := c.v2Reply(n, "", nil)
		rp.d = magicDecision(rp.d, openID)
		return rp.with(d), nil
	} else if plan != nil {
		d.Fault = plan
	}
	u, why, err := s.unionIDOf(ctx, app.ID, openID)
	if err != nil || why != "" {
		rp := unionIDInvalid(c, why)
		rp.openID = openID
		return rp.with(d), err
	}
	rp := c.v2Reply(0, "unionid of open_id "+openID, map[string]any{"unionid": u.UnionID})
	rp.openID = openID
	return rp.with(d), nil
}

// decideTPUnionID decides the platform's UnionID lookup: the authorizer token, the form, the user.
func (s *Server) decideTPUnionID(ctx context.Context, c *apiCall) (reply, error) {
	app, d, refused, err := c.token(ctx, true)
	if err != nil || refused {
		return c.gatewayReply(d), err
	}
	if reason := c.form(); reason != "" {
		return tpInvalid(c, reason).with(d), nil
	}
	openID := c.get("open_id")
	if _, plan := c.magic(openID, func(int) bool { return false }); plan != nil {
		d.Fault = plan
	}
	u, why, err := s.unionIDOf(ctx, app.ID, openID)
	if err != nil || why != "" {
		rp := tpInvalid(c, why)
		rp.openID = openID
		return rp.with(d), err
	}
	rp := c.tpReply(0, "unionid of open_id "+openID+" (platform)", map[string]any{"union_id": u.UnionID})
	rp.openID = openID
	return rp.with(d), nil
}

// unionIDOf is the user of app whose UnionID a lookup answers, or why there is none.
func (s *Server) unionIDOf(ctx context.Context, app, openID string) (User, string, error) {
	u, ok, err := s.User(ctx, app, openID)
	switch {
	case err != nil:
		return User{}, "store: " + err.Error(), err
	case !ok:
		return User{}, "openid: " + strconv.Quote(openID) + " is not a user of app " + app + " (create one: POST /__admin/apps/" + app + "/users)", nil
	case u.Guest():
		return User{}, "openid: " + strconv.Quote(openID) + " is a guest, who has no UnionID (inferred)", nil
	}
	return u, "", nil
}
