package mockserver

import (
	"crypto/rand"
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

// MaxClientID is the longest client_id the token endpoint accepts (Baidu's App Keys are 32
// characters); a longer one is an invalid client, so no app id and no token grows without bound.
const MaxClientID = 128

// scopeBase is the scope a mini program's server asks for.
const scopeBase = "smartapp_snsapi_base"

// serveToken answers /oauth/2.0/token: the client_credentials grant (and refresh_token), with
// Baidu-shaped tokens that expire on the app's clock.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	id := s.newID()
	e := store.Entry{ID: id, Time: start, AppTime: start, Endpoint: "token", Method: journalMethod(r.Method), Path: journalPath(r.URL.Path),
		ContentType: journalContentType(r.Header.Get("Content-Type")), Layer: smartappmock.LayerOAuth}
	var body []byte
	if r.Method == http.MethodPost {
		var err error
		body, err = readBody(r)
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			s.oauthError(w, r, &e, "missing_grant_type", "body: larger than 1 MiB", start)
			return
		case err != nil: // the body did not fully arrive: no token is issued
			s.oauthError(w, r, &e, "missing_grant_type", err.Error(), start)
			return
		}
	}
	p := params.Parse(r.URL.RawQuery, r.Header.Get("Content-Type"), body, s.cfg.Policy.LenientJSON)
	e.Params = p.Journal()
	grant, _ := p.Get("grant_type")
	clientID, _ := p.Get("client_id")
	secret, _ := p.Get("client_secret")
	scope, _ := p.Get("scope")
	switch grant {
	case "":
		s.oauthError(w, r, &e, "missing_grant_type", "grant_type: missing", start)
		return
	case "client_credentials", "refresh_token":
	default:
		s.oauthError(w, r, &e, "unsupported_grant_type", "grant_type: "+strconv.Quote(grant)+" is not supported (use client_credentials)", start)
		return
	}
	if scope != "" && !strings.Contains(scope, scopeBase) {
		s.oauthError(w, r, &e, "invalid_scope", "scope: "+strconv.Quote(scope)+" does not include "+scopeBase, start)
		return
	}
	if clientID == "" {
		s.oauthError(w, r, &e, "unknown_client", "client_id: missing", start)
		return
	}
	if len(clientID) > MaxClientID {
		s.oauthError(w, r, &e, "unknown_client", fmt.Sprintf("client_id: longer than %d bytes (%d)", MaxClientID, len(clientID)), start)
		return
	}
	app, known, err := s.appForClient(r, clientID, secret)
	if err != nil {
		s.tokenStoreDown(w, r, e, err, start)
		return
	}
	if !known {
		s.oauthError(w, r, &e, "unknown_client", "client_id: "+strconv.Quote(clientID)+" is not a configured app (policy apps: configured)", start)
		return
	}
	e.App = app.ID
	if secret == "" || secret != app.ClientSecret {
		reason := "client_secret: does not match the app's secret"
		if secret == "" {
			reason = "client_secret: missing"
		} else if app.Source == "sandbox-client" {
			reason = "client_secret: differs from the first secret this sandbox app was seen with"
		}
		s.oauthError(w, r, &e, "bad_secret", reason, start)
		return
	}
	if grant == "refresh_token" {
		rt, _ := p.Get("refresh_token")
		old, found, err := s.store.Token(r.Context(), rt)
		if err != nil {
			s.tokenStoreDown(w, r, e, err, start)
			return
		}
		// Only a refresh token of this endpoint (25.): not an authorizer refresh token (46.) nor
		// an authorization code, which the store also keeps as refresh tokens of their app.
		if !found || !old.Refresh || old.App != app.ID || !strings.HasPrefix(rt, "25.") {
			s.oauthError(w, r, &e, "invalid_refresh_token", "refresh_token: not issued to this app", start)
			return
		}
	}
	appNow, err := store.AppNow(r.Context(), s.store, app, start)
	if err != nil {
		s.tokenStoreDown(w, r, e, err, start)
		return
	}
	e.AppTime = appNow
	access := newToken("24", smartappmock.TokenExpiresIn, appNow, app.ID)
	refresh := newToken("25", smartappmock.RefreshTokenExpiresIn, appNow, app.ID)
	ctx := r.Context()
	err1 := s.store.PutToken(ctx, store.Token{Value: access, App: app.ID, Issued: appNow, Expires: appNow.Add(smartappmock.TokenExpiresIn * time.Second)})
	err2 := s.store.PutToken(ctx, store.Token{Value: refresh, App: app.ID, Refresh: true, Issued: appNow, Expires: appNow.Add(smartappmock.RefreshTokenExpiresIn * time.Second)})
	if err := errors.Join(err1, err2); err != nil {
		s.tokenStoreDown(w, r, e, err, start)
		return
	}
	e.Token = RedactToken(access)
	e.Status = http.StatusOK
	e.Reason = "issued a token to app " + app.ID
	if app.Source == "sandbox-client" {
		e.Warnings = append(e.Warnings, WarnUnconfiguredClient.Warning())
	}
	body = mustJSON(smartappmock.TokenResponse{
		AccessToken:   access,
		ExpiresIn:     smartappmock.TokenExpiresIn,
		RefreshToken:  refresh,
		Scope:         scopeBase,
		SessionKey:    randomHex(16),
		SessionSecret: randomHex(16),
	})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set(smartappmock.HeaderOutcome, "oauth ok")
	h.Set(smartappmock.HeaderRequestID, id)
	h.Set(smartappmock.HeaderReason, HeaderSafe(e.Reason))
	for _, wn := range e.Warnings {
		h.Add(smartappmock.HeaderWarning, wn.Message)
	}
	s.record(r.Context(), e, start)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// appForClient finds the app of a client_id; under the sandbox app policy an unknown client_id
// becomes an app (id = client_id) with the secret it came with.
func (s *Server) appForClient(r *http.Request, clientID, secret string) (store.App, bool, error) {
	if a, ok := s.byClient[clientID]; ok {
		app, found, err := s.store.App(r.Context(), a.ID)
		return app, found, err
	}
	if s.cfg.Policy.Apps != config.AppsSandbox {
		return store.App{}, false, nil
	}
	if secret == "" {
		// Do not register an app without a secret; answer as a bad secret.
		if app, found, err := s.store.App(r.Context(), clientID); found || err != nil {
			return app, found, err
		}
		return store.App{ID: clientID, ClientID: clientID, Source: "sandbox-client", Capability: true}, true, nil
	}
	app, _, err := s.store.RegisterApp(r.Context(), store.App{ID: clientID, ClientID: clientID, ClientSecret: secret, Source: "sandbox-client", Capability: true})
	if err == nil && app.Source != "sandbox-client" && app.ClientID != clientID {
		// An app id taken by a configured app or a token app: the client is not that app.
		return store.App{}, false, nil
	}
	return app, true, err
}

func (s *Server) oauthError(w http.ResponseWriter, r *http.Request, e *store.Entry, caseID, reason string, start time.Time) {
	c, _ := s.spec.Catalogue().OAuthError(caseID)
	e.OAuthError = c.Error
	e.Status = http.StatusBadRequest
	e.Reason = reason
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set(smartappmock.HeaderOutcome, "oauth "+c.Error)
	h.Set(smartappmock.HeaderRequestID, e.ID)
	h.Set(smartappmock.HeaderReason, HeaderSafe(reason))
	if e.Params == nil {
		e.Params = []store.Param{}
	}
	s.record(r.Context(), *e, start)
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(mustJSON(smartappmock.OAuthError{Error: c.Error, ErrorDescription: c.Description}))
}

// newToken builds "<prefix>.<32 hex>.<expires>.<unix time>.282335-<app id>".
func newToken(prefix string, expires int, issued time.Time, appID string) string {
	return prefix + "." + randomHex(16) + "." + strconv.Itoa(expires) + "." + strconv.FormatInt(issued.Unix(), 10) + ".282335-" + appID
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tokenHash names the sandbox app of a token: 12 hex digits of its SHA-256.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:6])
}

// tokenStoreDown answers a token request whose store does not answer as Baidu's gateway answers an
// unavailable service: HTTP 200, {"error_code":2,...}, the cause in the reason header.
func (s *Server) tokenStoreDown(w http.ResponseWriter, r *http.Request, e store.Entry, err error, start time.Time) {
	d := storeDown(err)
	e.Layer, e.Code, e.Reason, e.Status = d.Layer, d.Code, d.Reason, http.StatusOK
	if e.Params == nil {
		e.Params = []store.Param{}
	}
	s.record(r.Context(), e, start)
	s.writeEnvelope(w, d, e.ID)
}
