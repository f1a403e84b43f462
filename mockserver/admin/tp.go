package admin

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// Authorize is the body of POST /__admin/platforms/{platform}/authorize: the app whose admin
// consents to the platform.
type Authorize struct {
	App string `json:"app"`
}

// Authorization is the answer of POST /__admin/platforms/{platform}/authorize: the authorization
// code the platform exchanges at /rest/2.0/oauth/token (grant_type app_to_tp_authorization_code)
// for the app's authorizer tokens, and the warnings of a sandbox platform.
type Authorization struct {
	Platform          string          `json:"platform"`
	App               string          `json:"app"`
	AuthorizationCode string          `json:"authorization_code"`
	ExpiresIn         int             `json:"expires_in"`
	Warnings          []store.Warning `json:"warnings,omitempty"`
}

// authorizePlatform stands in for the consent a mini program's admin gives a third-party platform
// in Baidu's console (the redirect that carries authorization_code).
func (a *API) authorizePlatform(w http.ResponseWriter, r *http.Request) {
	platform := mux.Vars(r)["platform"]
	var in Authorize
	if !decodeInput(w, r, &in, `{"app":"..."}`) {
		return
	}
	if in.App == "" {
		WriteError(w, http.StatusBadRequest, `app: required (want {"app":"..."})`)
		return
	}
	code, warnings, err := a.core.AuthorizePlatform(r.Context(), platform, in.App)
	switch {
	case errors.Is(err, store.ErrUnknownApp):
		WriteError(w, http.StatusNotFound, err.Error())
		return
	case errors.Is(err, mockserver.ErrUnknownPlatform):
		WriteError(w, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		StoreFailed(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, Authorization{Platform: platform, App: in.App, AuthorizationCode: code,
		ExpiresIn: mockserver.AuthorizationCodeExpiresIn, Warnings: warnings})
}
