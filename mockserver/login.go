package mockserver

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/store"
)

// The login and UnionID endpoints (docs/users-and-login.md), on the shared pipeline
// (call.go). A user's login code (users.go) is exchanged once for the user's open_id and the
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
// Every one is a call of the pipeline beside the send (call.go): its credentials, the fault plans,
// the gateway rules, then its form and its own checks. Magic values (policy.magic_values): a code
// (or openid) errno_<N> answers the endpoint's errno N, fault_<kind> delivers the answer through
// that fault; access_token error_code_<N> as on a send. Baidu documents no per-app quota for these
// endpoints, so the QPS and daily limits do not count them [inf].

var (
	loginV1Endpoint = &endpoint{name: "login_v1", authenticate: loginV1Credentials, invalid: spapiInvalid,
		read: readMagic("code", "", (*Server).decideLoginV1)}
	loginV2Endpoint   = &endpoint{name: "login_v2", invalid: v2Invalid, read: readMagic("code", "", (*Server).decideLoginV2)}
	tpLoginEndpoint   = &endpoint{name: "tp_login", byTP: true, invalid: tpLoginInvalid, read: readMagic("code", "", (*Server).decideTPLogin)}
	unionIDEndpoint   = &endpoint{name: "unionid", invalid: unionIDInvalid, read: readMagic("openid", "openid", (*Server).decideUnionID)}
	tpUnionIDEndpoint = &endpoint{name: "tp_unionid", byTP: true, invalid: tpInvalid,
		read: readMagic("open_id", "open_id", (*Server).decideTPUnionID)}
)

// readMagic reads a call whose parameter magic may carry a magic value, and whose parameter
// openID ("": none) names the user that rules and fault plans match on.
func readMagic(magic, openID string, decide callFunc) func(c *call, in *send) endpointCall {
	return func(c *call, in *send) endpointCall {
		c.magic = c.get(magic)
		if openID != "" {
			in.openID = c.get(openID)
		}
		return decide
	}
}

// spapiInvalid is the v1 login's answer to a parameter error.
func spapiInvalid(c *call, reason string) reply {
	return c.spapiReply(smartappmock.ErrnoSPAPIInvalidParameter, reason)
}

// spapiReply answers {"errno":N,"error":…,"error_description":reason}: the v1 login's envelope
// carries its reason in the body, as Baidu's does.
func (c *call) spapiReply(errno int, reason string) reply {
	msg, ok := c.s.spec.Catalogue().LoginMessage(errno)
	if !ok {
		msg = "error"
	}
	d := business(errno, reason)
	return reply{status: http.StatusOK, d: d, body: mustJSON(smartappmock.SPAPIError{Errno: errno, Error: msg, ErrorDescription: reason})}
}

// v2Invalid is the v2 login's answer to a parameter error: 40001 参数错误 [inf].
func v2Invalid(c *call, reason string) reply {
	return c.v2Reply(smartappmock.ErrnoTPInvalidParameter, reason, nil)
}

// v2Reply answers the smartapp REST envelope of the v2 login and getunionid: errno, errmsg and
// msg (the docs say errmsg, Baidu's SDKs read msg: both), data, request_id and timestamp.
func (c *call) v2Reply(errno int, reason string, data map[string]any) reply {
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
func unionIDInvalid(c *call, reason string) reply {
	return c.v2Reply(smartappmock.ErrnoUnionIDInvalidParameter, reason, nil)
}

// tpInvalid is a platform endpoint's answer to a parameter error: 40001 参数错误.
func tpInvalid(c *call, reason string) reply {
	return c.tpReply(smartappmock.ErrnoTPInvalidParameter, reason, nil)
}

// tpReply answers the platform's envelope {"errno":N,"msg":…,"data":{…}}.
func (c *call) tpReply(errno int, reason string, data map[string]any) reply {
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
func (c *call) oauthReply(caseID, reason string) reply {
	oc, _ := c.s.spec.Catalogue().OAuthError(caseID)
	d := Decision{Layer: smartappmock.LayerOAuth, Reason: reason}
	return reply{status: http.StatusBadRequest, d: d, oauthError: oc.Error,
		body: mustJSON(smartappmock.OAuthError{Error: oc.Error, ErrorDescription: oc.Description})}
}

// loginV1Credentials is the v1 login's first step: its parameters (the form: Baidu's spapi checks
// them first), the app of client_id, and its secret sk.
func loginV1Credentials(ctx context.Context, c *call, now time.Time) (store.App, reply, bool, []store.Warning, error) {
	s := c.s
	if reason := c.form(); reason != "" {
		// The body's description says what the parser skipped too; the decision's reason gets
		// those notes once, as every answer's (decideSend).
		desc := reason
		if notes := c.p.Notes(); len(notes) > 0 {
			desc += "; " + strings.Join(notes, "; ")
		}
		rp := c.spapiReply(smartappmock.ErrnoSPAPIInvalidParameter, desc)
		rp.d.Reason = reason
		return store.App{}, rp, true, nil, nil
	}
	clientID, sk := c.get("client_id"), c.get("sk")
	var app store.App
	var found bool
	var err error
	if a, ok := s.byClient[clientID]; ok {
		app, found, err = s.store.App(ctx, a.ID)
	} else {
		app, found, err = s.store.App(ctx, clientID) // a sandbox app's id is its client_id
		found = found && app.ClientID == clientID
	}
	switch {
	case err != nil:
		return store.App{}, reply{}, false, nil, err
	case !found:
		return store.App{}, spapiInvalid(c, "client_id: "+strconv.Quote(clientID)+" is not an app of this fake (get a token with it first, or configure it)"), true, nil, nil
	case sk != app.ClientSecret:
		return app, spapiInvalid(c, "sk: not the secret of client_id "+strconv.Quote(clientID)), true, nil, nil
	}
	return app, reply{}, false, nil, nil
}

// decideLoginV1 decides the v1 login, once its credentials passed: a magic code, the code.
func (s *Server) decideLoginV1(ctx context.Context, c *call, app store.App, appNow time.Time) (reply, error) {
	code := c.get("code")
	if d, ok := s.magicErrno("code", code, func(n int) bool { _, ok := s.spec.Catalogue().LoginMessage(n); return ok }); ok {
		return c.spapiReply(d.Code, "").withDecision(d), nil
	}
	u, sessionKey, why, err := s.takeLoginCode(ctx, app.ID, code, appNow)
	if err != nil {
		return reply{}, err
	}
	if why != "" {
		return spapiInvalid(c, why), nil
	}
	return reply{status: http.StatusOK, d: business(0, "login: open_id "+u.OpenID+" of app "+app.ID), openID: u.OpenID,
		body: mustJSON(smartappmock.SessionKeyResponse{OpenID: u.OpenID, SessionKey: sessionKey})}, nil
}

// decideLoginV2 decides the v2 login, after the app's token and the form: a magic code, the code.
func (s *Server) decideLoginV2(ctx context.Context, c *call, app store.App, appNow time.Time) (reply, error) {
	code := c.get("code")
	if d, ok := s.magicErrno("code", code, s.knownRESTErrno); ok {
		return c.v2Reply(d.Code, "", nil).withDecision(d), nil
	}
	u, sessionKey, why, err := s.takeLoginCode(ctx, app.ID, code, appNow)
	if err != nil {
		return reply{}, err
	}
	if why != "" {
		return v2Invalid(c, why), nil
	}
	rp := c.v2Reply(0, "login: open_id "+u.OpenID+" of app "+app.ID, map[string]any{"open_id": u.OpenID, "session_key": sessionKey})
	rp.openID = u.OpenID
	return rp, nil
}

// knownRESTErrno reports whether n is an errno of the login and UnionID endpoints or the platform's.
func (s *Server) knownRESTErrno(n int) bool {
	_, a := s.spec.Catalogue().LoginMessage(n)
	_, b := s.spec.Catalogue().PlatformMessage(n)
	return a || b
}

// tpLoginInvalid is the platform login's answer to a parameter error: an OAuth error (HTTP 400),
// unsupported_grant_type for a grant_type other than authorization_code.
func tpLoginInvalid(c *call, reason string) reply {
	if grant := c.get("grant_type"); grant != "" && grant != "authorization_code" {
		return c.oauthReply("unsupported_grant_type", "grant_type: "+strconv.Quote(grant)+" is not supported (use authorization_code)")
	}
	return c.oauthReply("missing_login_parameter", reason)
}

// decideTPLogin decides the platform's login, after the authorizer token and the form (code,
// grant_type): the code.
func (s *Server) decideTPLogin(ctx context.Context, c *call, app store.App, appNow time.Time) (reply, error) {
	u, sessionKey, why, err := s.takeLoginCode(ctx, app.ID, c.get("code"), appNow)
	if err != nil {
		return reply{}, err
	}
	if why != "" {
		return c.oauthReply("invalid_login_code", why), nil
	}
	return reply{status: http.StatusOK, d: business(0, "login: open_id "+u.OpenID+" of app "+app.ID+" (platform)"), openID: u.OpenID,
		body: mustJSON(smartappmock.SessionKeyResponse{OpenID: u.OpenID, SessionKey: sessionKey})}, nil
}

// decideUnionID decides getunionid, after the app's token and the form: a magic openid, the user.
func (s *Server) decideUnionID(ctx context.Context, c *call, app store.App, _ time.Time) (reply, error) {
	openID := c.get("openid")
	if d, ok := s.magicErrno("openid", openID, s.knownRESTErrno); ok {
		return c.v2Reply(d.Code, "", nil).withDecision(d), nil
	}
	u, why, err := s.unionIDOf(ctx, app.ID, openID)
	if err != nil {
		return reply{}, err
	}
	if why != "" {
		rp := unionIDInvalid(c, why)
		rp.openID = openID
		return rp, nil
	}
	rp := c.v2Reply(0, "unionid of open_id "+openID, map[string]any{"unionid": u.UnionID})
	rp.openID = openID
	return rp, nil
}

// decideTPUnionID decides the platform's UnionID lookup, after the authorizer token and the form:
// the user.
func (s *Server) decideTPUnionID(ctx context.Context, c *call, app store.App, _ time.Time) (reply, error) {
	openID := c.get("open_id")
	u, why, err := s.unionIDOf(ctx, app.ID, openID)
	if err != nil {
		return reply{}, err
	}
	if why != "" {
		rp := tpInvalid(c, why)
		rp.openID = openID
		return rp, nil
	}
	rp := c.tpReply(0, "unionid of open_id "+openID+" (platform)", map[string]any{"union_id": u.UnionID})
	rp.openID = openID
	return rp, nil
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
