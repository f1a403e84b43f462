package mockserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver/params"
	"github.com/smartappmock/smartappmock/store"
)

// Legacy template messages (template/send): each message rides on a scene the recipient made,
// its scene_id: a form's formId (scene_type 1: one message within 7 days) or an order's orderId
// or payId (2, 3: three messages within 7 days). The scene's last character is 1 when a
// logged-in user (an open_id, touser_openId) made it, 0 for a guest (a swan_id, touser). Here a
// scene is a store record of kind "scene" (NewScene, the admin API's
// POST /__admin/apps/{app}/users/{open_id}/scenes), and its messages one store counter each.

// The scene types of template/send.
const (
	SceneForm    = 1 // a form's formId
	SceneCashier = 2 // a Baidu cashier orderId
	ScenePayment = 3 // a direct-payment payId
)

// SceneLifetime is how long a scene can carry messages (7 days, on the app's clock).
const SceneLifetime = 7 * 24 * time.Hour

// Scene is a form submission or a payment of a user: what template/send's scene_id names.
type Scene struct {
	// ID is the scene_id to send with.
	ID string `json:"scene_id"`
	// Type is SceneForm, SceneCashier or ScenePayment.
	Type int `json:"scene_type"`
	// User is the open_id (or, for a guest, the swan_id) that made the scene.
	User string `json:"user"`
	// Guest says the user was not logged in: send with touser (the swan_id), not touser_openId.
	Guest bool `json:"guest"`
	// Messages is how many messages the scene carries (1 for a form, 3 for a payment).
	Messages int `json:"messages"`
	// Made and Expires are on the app's clock.
	Made    time.Time `json:"made"`
	Expires time.Time `json:"expires"`
}

// NewScene makes a scene of a user of app: a form submission or a payment whose id template/send
// takes as scene_id. Its errors are *Error: ErrNotFound, ErrInvalid (a type other than 1 to 3,
// an empty or too long user), ErrStore.
func (s *Server) NewScene(ctx context.Context, app, user string, sceneType int, guest bool) (Scene, error) {
	a, found, err := s.store.App(ctx, app)
	if err != nil {
		return Scene{}, storeFailed(err)
	}
	if !found {
		return Scene{}, &Error{Code: ErrNotFound, Message: fmt.Sprintf("unknown app %q", app)}
	}
	if user == "" || len(user) > maxMessageID {
		return Scene{}, invalid("open_id: want 1 to %d bytes, got %d", maxMessageID, len(user))
	}
	messages := 3
	switch sceneType {
	case SceneForm:
		messages = 1
	case SceneCashier, ScenePayment:
	default:
		return Scene{}, invalid("scene_type: want 1 (form), 2 (Baidu cashier order) or 3 (direct payment), got %d", sceneType)
	}
	now, err := store.AppNow(ctx, s.store, a, s.now())
	if err != nil {
		return Scene{}, storeFailed(err)
	}
	last := "1"
	if guest {
		last = "0"
	}
	sc := Scene{ID: randomHex(15) + last, Type: sceneType, User: user, Guest: guest, Messages: messages, Made: now, Expires: now.Add(SceneLifetime)}
	if err := s.store.PutRecord(ctx, a.ID, store.Record{Kind: recordScene, ID: sc.ID, Data: mustJSON(sc)}); err != nil {
		if errors.Is(err, store.ErrRecordsFull) {
			return Scene{}, invalid("app %s holds too many records: %v", a.ID, err)
		}
		return Scene{}, storeFailed(err)
	}
	return sc, nil
}

// templateCall is a send of a legacy template message. Its decision, after the gateway layer:
//
//  1. openapi.yaml's TemplateSendForm, UTF-8, one of touser and touser_openId, and data a JSON
//     object of {"value": …} (2002);
//  2. a magic recipient errno_<N> of the template table (N); a touser_openId that is not one of
//     the app's users under policy.open_ids issued (4004: the doc's table has no open_id errno
//     for this endpoint [inf]; under any, a warning);
//  3. a template the app does not have (4001; any, with a warning, when it lists none);
//  4. the scene: unknown, of another user, of a guest sent with touser_openId (or the reverse),
//     of another type (4004); past its 7 days (4003 a form, 4004 a payment); its messages used
//     (the same); success with a message key.
type templateCall struct {
	p                                     *params.Params
	templateID, toUser, toOpenID, sceneID string
	data                                  string
	out                                   []byte
}

func (c *templateCall) endpoint() string { return endpointTemplateSend }
func (c *templateCall) body() []byte     { return c.out }

func (c *templateCall) decide(ctx context.Context, s *Server, app store.App, appNow time.Time) (Decision, error) {
	if v, bad := s.checkParams(c.p, "TemplateSendForm", smartappmock.ErrnoTemplateParam); bad {
		return v, nil
	}
	if c.toUser == "" && c.toOpenID == "" {
		return business(smartappmock.ErrnoTemplateParam, "touser, touser_openId: one is required (the swan_id of a guest, the open_id of a logged-in user)"), nil
	}
	if reason := checkTemplateData(c.data); reason != "" {
		return business(smartappmock.ErrnoTemplateParam, reason), nil
	}
	recipient, guest := c.toOpenID, false
	if recipient == "" {
		recipient, guest = c.toUser, true
	}
	if v, ok := s.magicAPIOpenID(recipient, s.spec.Catalogue().TemplateMessage); ok {
		return v, nil
	}
	var warnings []store.Warning
	if !guest {
		issued, err := s.issuedOpenID(ctx, app.ID, recipient) // users.go: policy.open_ids
		if err != nil {
			return Decision{}, err
		}
		if issued.refused {
			return business(smartappmock.ErrnoSceneInvalid, strings.Replace(issued.d.Reason, "open_id", "touser_openId", 1)), nil
		}
		if issued.warn {
			warnings = []store.Warning{WarnUnissuedOpenID.Warning()}
		}
	}
	if ok, listed := s.apps[app.ID].HasTemplate(c.templateID, s.cfg.Policy.Templates); !ok {
		return business(smartappmock.ErrnoTemplateID, reasonTemplateUnknown(c.templateID, app.ID)), nil
	} else if !listed {
		warnings = append(warnings, WarnUnlistedTemplate.Warning())
	}
	v, err := s.takeScene(ctx, app.ID, appNow, c.sceneID, recipient, guest, c.p)
	if err != nil || v.Code != 0 {
		v.Warnings = warnings
		return v, err
	}
	key, err := s.msgKey(ctx, app.ID)
	if err != nil {
		return Decision{}, err
	}
	c.out = msgKeyBody(key)
	v.Reason += "; msg_key " + strconv.FormatInt(key, 10)
	v.Warnings = warnings
	return v, nil
}

// takeScene decides the scene of a template message to recipient and counts the message on it.
func (s *Server) takeScene(ctx context.Context, app string, appNow time.Time, sceneID, recipient string, guest bool, p *params.Params) (Decision, error) {
	rec, found, err := s.store.Record(ctx, app, recordScene, sceneID)
	if err != nil {
		return Decision{}, err
	}
	if !found {
		return business(smartappmock.ErrnoSceneInvalid, "scene_id: no scene of app "+app+" has this id (scenes: admin API .../users/{open_id}/scenes)"), nil
	}
	var sc Scene
	if err := json.Unmarshal(rec.Data, &sc); err != nil {
		return Decision{}, fmt.Errorf("the scene %s: %w", sceneID, err)
	}
	typ, _ := p.Get("scene_type")
	spent := smartappmock.ErrnoSceneInvalid
	if sc.Type == SceneForm {
		spent = smartappmock.ErrnoFormInvalid
	}
	switch {
	case sc.User != recipient:
		return business(smartappmock.ErrnoSceneInvalid, "scene_id: made by "+strconv.Quote(sc.User)+", not by the recipient "+strconv.Quote(recipient)), nil
	case sc.Guest != guest && sc.Guest:
		return business(smartappmock.ErrnoSceneInvalid, "scene_id: made by a guest (it ends in 0): send with touser (the swan_id), not touser_openId"), nil
	case sc.Guest != guest:
		return business(smartappmock.ErrnoSceneInvalid, "scene_id: made by a logged-in user (it ends in 1): send with touser_openId, not touser"), nil
	case typ != strconv.Itoa(sc.Type):
		return business(smartappmock.ErrnoSceneInvalid, "scene_type: "+strconv.Quote(typ)+", but the scene is of type "+strconv.Itoa(sc.Type)), nil
	case !appNow.Before(sc.Expires):
		return business(spent, "scene_id: expired at "+sc.Expires.Format(time.RFC3339)+" (7 days; app clock "+appNow.Format(time.RFC3339)+")"), nil
	}
	n, ok, err := s.store.TakeCount(ctx, app, "scene:"+sceneID, "messages", sc.Messages)
	if err != nil {
		return Decision{}, err
	}
	if !ok {
		return business(spent, "scene_id: its "+strconv.Itoa(sc.Messages)+" message"+plural(sc.Messages)+" already sent"), nil
	}
	return business(smartappmock.ErrnoOK, "scene message "+strconv.Itoa(n)+" of "+strconv.Itoa(sc.Messages)), nil
}

// serveTemplateSend answers TemplateSendPath.
func (s *Server) serveTemplateSend(w http.ResponseWriter, r *http.Request) {
	s.serveMsg(w, r, endpointTemplateSend, maxMsgBody, func(req *msgRequest, in *send) (msgCall, []store.Param) {
		c := &templateCall{p: req.p}
		c.templateID, _ = req.p.Get("template_id")
		c.toUser, _ = req.p.Get("touser")
		c.toOpenID, _ = req.p.Get("touser_openId")
		c.sceneID, _ = req.p.Get("scene_id")
		c.data, _ = req.p.Get("data")
		in.openID, in.content = c.toOpenID, c.data
		if in.openID == "" {
			in.openID = c.toUser
		}
		return c, nil
	})
}
