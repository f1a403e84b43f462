package admin

// Subscribe and template messages: a user's consents to subscribe messages, and the scenes (form
// submissions, payments) legacy template messages ride on. The handlers decode, call the API core
// (mockserver.Server's Subscribe, Unsubscribe, Subscriptions and NewScene) and render its answer.
//
//	POST   /__admin/apps/{app}/users/{open_id}/subscriptions  the user consents: {"template_id":"…","subscribe_id":"…"}
//	GET    /__admin/apps/{app}/users/{open_id}/subscriptions  the user's consents left
//	DELETE /__admin/apps/{app}/users/{open_id}/subscriptions?template_id=…&subscribe_id=…  the user cancels
//	GET    /__admin/apps/{app}/subscriptions                  every consent left of the app's users
//	POST   /__admin/apps/{app}/users/{open_id}/scenes         a form or payment: {"scene_type":1,"guest":false}

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/smartappmock/smartappmock/mockserver"
)

// Consent is the body of POST /__admin/apps/{app}/users/{open_id}/subscriptions.
type Consent struct {
	// TemplateID is the app's template id (not the BDxxxx library id).
	TemplateID string `json:"template_id"`
	// SubscribeID is the subscribe-id of the consent.
	SubscribeID string `json:"subscribe_id"`
}

// SubscriptionList is the answer of the GET routes of subscriptions.
type SubscriptionList struct {
	App           string                    `json:"app"`
	Subscriptions []mockserver.Subscription `json:"subscriptions"`
}

// SceneInput is the body of POST /__admin/apps/{app}/users/{open_id}/scenes.
type SceneInput struct {
	// SceneType is 1 (a form), 2 (a Baidu cashier order) or 3 (a direct payment).
	SceneType int `json:"scene_type"`
	// Guest says the user is not logged in: the path names a swan_id, and template/send must
	// name it as touser.
	Guest bool `json:"guest,omitempty"`
}

// subscriptionRoutes registers the routes of subscribe and template messages.
func (a *API) subscriptionRoutes(p prefixed) {
	p.handle("/apps/{app}/users/{open_id}/subscriptions", a.subscribe, http.MethodPost)
	p.handle("/apps/{app}/users/{open_id}/subscriptions", a.userSubscriptions, http.MethodGet)
	p.handle("/apps/{app}/users/{open_id}/subscriptions", a.unsubscribe, http.MethodDelete)
	p.handle("/apps/{app}/subscriptions", a.appSubscriptions, http.MethodGet)
	p.handle("/apps/{app}/users/{open_id}/scenes", a.newScene, http.MethodPost)
}

// subscribe answers the consent, created false when it was held already (consents do not add
// up), with the warnings of a lenient answer.
func (a *API) subscribe(w http.ResponseWriter, r *http.Request) {
	var in Consent
	if !decodeInput(w, r, &in, `{"template_id":"…","subscribe_id":"…"}`) {
		return
	}
	v := mux.Vars(r)
	got, err := a.core.Subscribe(r.Context(), v["app"], mockserver.Subscription{OpenID: v["open_id"], TemplateID: in.TemplateID, SubscribeID: in.SubscribeID})
	if err != nil {
		coreFailed(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, got)
}

func (a *API) userSubscriptions(w http.ResponseWriter, r *http.Request) {
	a.listSubscriptions(w, r, mux.Vars(r)["open_id"])
}

func (a *API) appSubscriptions(w http.ResponseWriter, r *http.Request) { a.listSubscriptions(w, r, "") }

func (a *API) listSubscriptions(w http.ResponseWriter, r *http.Request, openID string) {
	app := mux.Vars(r)["app"]
	subs, err := a.core.Subscriptions(r.Context(), app, openID)
	if err != nil {
		coreFailed(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, SubscriptionList{App: app, Subscriptions: subs})
}

// Cancelled is the answer of DELETE /__admin/apps/{app}/users/{open_id}/subscriptions.
type Cancelled struct {
	// Cancelled is true: a consent was held and is cancelled (none held answers 404).
	Cancelled bool `json:"cancelled"`
}

// unsubscribe answers {"cancelled":true} when a consent was held and is now cancelled, 404 when
// none was.
func (a *API) unsubscribe(w http.ResponseWriter, r *http.Request) {
	v, q := mux.Vars(r), r.URL.Query()
	held, err := a.core.Unsubscribe(r.Context(), v["app"], mockserver.Subscription{OpenID: v["open_id"], TemplateID: q.Get("template_id"), SubscribeID: q.Get("subscribe_id")})
	if err != nil {
		coreFailed(w, err)
		return
	}
	if !held {
		WriteError(w, http.StatusNotFound, "no such consent is held (it was used by a message, cancelled, or never given)")
		return
	}
	WriteJSON(w, http.StatusOK, Cancelled{Cancelled: true})
}

func (a *API) newScene(w http.ResponseWriter, r *http.Request) {
	var in SceneInput
	if !decodeInput(w, r, &in, `{"scene_type":1,"guest":false}`) {
		return
	}
	v := mux.Vars(r)
	sc, err := a.core.NewScene(r.Context(), v["app"], v["open_id"], in.SceneType, in.Guest)
	if err != nil {
		coreFailed(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, sc)
}
