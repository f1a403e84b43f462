package mockserver

import (
	"context"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/store"
)

// The third-party platform's lookups (docs/users-and-login.md), calls of the pipeline beside the
// send (call.go):
//
//   - RetrieveAuthCodePath: the platform token (42.) and app_id (form or query) answer a fresh
//     authorization code of an app that authorized the platform, for TPOAuthPath, valid 18000
//     seconds on the app's clock, once; errno 50032 没有授权关系 for an app that did not (it
//     never granted a configured platform in apps[].platforms, and no authorization code of the
//     platform was made for it, AuthorizePlatform).
//   - AppInfoPath: the authorizer token (45.) answers the app's basic information, with the
//     fields Baidu documents filled from the configuration [inf: the values are the fake's].

var (
	retrieveCodeEndpoint = &endpoint{name: "tp_retrieve_code", authenticate: platformCredentials, invalid: tpInvalid,
		read: func(*call, *send) endpointCall { return callFunc((*Server).decideRetrieveCode) }}
	appInfoEndpoint = &endpoint{name: "tp_app_info", byTP: true, invalid: tpInvalid, read: func(*call, *send) endpointCall {
		return callFunc((*Server).decideAppInfo)
	}}
)

// platformCredentials is RetrieveAuthCode's first step: the platform token (42.), on the store's
// clock. The app is the business layer's (app_id).
func platformCredentials(ctx context.Context, c *call, now time.Time) (store.App, reply, bool, []store.Warning, error) {
	tag, code, reason, warnings := c.s.platformToken(ctx, c.get(smartappmock.ParamAccessToken), now)
	if code != 0 {
		d := gateway(code, reason)
		return store.App{}, c.envelopeReply(d, nil), true, nil, nil
	}
	c.tag = tag
	return store.App{}, reply{}, false, warnings, nil
}

// decideRetrieveCode decides RetrieveAuthCode, after the platform token and the form: the app of
// app_id, its authorization of the platform, a fresh code.
func (s *Server) decideRetrieveCode(ctx context.Context, c *call, _ store.App, now time.Time) (reply, error) {
	appID := c.get("app_id")
	app, found, err := s.store.App(ctx, appID)
	if err != nil {
		return reply{}, err
	}
	if !found {
		return c.tpReply(smartappmock.ErrnoNoAuthorization, "app_id: "+strconv.Quote(appID)+" is not an app of this fake", nil), nil
	}
	appNow := app.Now(now)
	named := func(rp reply) reply {
		rp.d.App, rp.d.AppTime = app.ID, appNow
		return rp
	}
	authorized, err := s.platformAuthorized(ctx, c.tag, app.ID)
	if err != nil {
		return reply{}, err
	}
	if !authorized {
		return named(c.tpReply(smartappmock.ErrnoNoAuthorization, "app "+app.ID+" did not authorize this platform (apps[].platforms, or POST /__admin/platforms/{key}/authorize)", nil)), nil
	}
	authCode := randomHex(8) + c.tag
	if err := s.store.PutToken(ctx, store.Token{Value: tpCodeKey + authCode, App: app.ID, Refresh: true, Issued: appNow,
		Expires: appNow.Add(smartappmock.RetrievedAuthCodeExpiresIn * time.Second)}); err != nil {
		return reply{}, err
	}
	return named(c.tpReply(0, "retrieved an authorization code of app "+app.ID, map[string]any{
		"authorization_code": authCode, "expires_in": smartappmock.RetrievedAuthCodeExpiresIn,
	})), nil
}

// platformAuthorized reports whether app authorized the platform of tag: a configured grant
// (apps[].platforms), or an authorization the admin API made (AuthorizePlatform).
func (s *Server) platformAuthorized(ctx context.Context, tag, app string) (bool, error) {
	if p, ok := s.platformOfTag(tag); ok {
		if a, ok := s.apps[app]; ok && a.GrantsPlatform(p.Key) {
			return true, nil
		}
	}
	_, ok, err := s.store.Record(ctx, app, kindTPAuth, tag)
	return ok, err
}

// decideAppInfo decides GetAppInfo, after the authorizer token: the app's information.
func (s *Server) decideAppInfo(_ context.Context, c *call, app store.App, _ time.Time) (reply, error) {
	return c.tpReply(0, "app info of app "+app.ID, s.appInfo(app)), nil
}

// appInfo is the information GetAppInfo answers of an app: Baidu's documented fields, with
// qualification's status under both spellings Baidu uses (status in the table, satus in the
// sample, which Baidu's Go SDK reads).
func (s *Server) appInfo(app store.App) map[string]any {
	id, err := strconv.ParseInt(app.ID, 10, 64)
	if err != nil {
		h := fnv.New32a()
		_, _ = h.Write([]byte(app.ID))
		id = int64(h.Sum32()) // a number for a non-numeric id: Baidu's app_id is an integer
	}
	return map[string]any{
		"app_id": id, "app_name": "smartappmock " + app.ID, "app_key": appKey(app), "app_desc": "an app of smartappmock",
		"photo_addr":    `[{"cover":"https://example.com/smartappmock/cover.png"}]`,
		"qualification": map[string]any{"name": "smartappmock", "type": 2, "status": 1, "satus": 1, "ad_type": 0, "ad_status": 1},
		"category":      []any{},
		"modify_count": map[string]any{"name_modify_used": 0, "name_modify_quota": 5, "signature_modify_used": 0, "signature_modify_quota": 5,
			"image_modify_used": 0, "image_modify_quota": 5, "category_modify_used": 0, "category_modify_quota": 3},
		"auth_info":          []any{map[string]any{"scope_name": "smartapp_snsapi_base", "type": 0}},
		"annual_review_info": map[string]any{"annual_review_status": 1, "annual_review_overdue_time": 0},
		"app_offline_info":   []any{},
		"min_swan_version":   "3.0.0",
		"status":             1,
		"web_status":         0,
	}
}
