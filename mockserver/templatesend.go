package mockserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
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

// templateSendEndpoint is TemplateSendPath: a call of the pipeline beside the send (call.go), its
// limits counted per endpoint. Rules and fault plans match the recipient (touser_openId, else
// touser) and the data.
var templateSendEndpoint = &endpoint{name: endpointTemplateSend, limits: true, invalid: templateInvalid,
	read: func(c *call, in *send) endpointCall {
		tc := &templateCall{templateID: c.get("template_id"), toUser: c.get("touser"), toOpenID: c.get("touser_openId"),
			sceneID: c.get("scene_id"), sceneType: c.get("scene_type"), data: c.get("data")}
		in.openID, in.content = tc.toOpenID, tc.data
		if in.openID == "" {
			in.openID = tc.toUser
		}
		c.magic = in.openID
		return tc
	}}

// templateCall is a send of a legacy template message. Its decision, after the gateway layer and
// openapi.yaml's TemplateSendForm (2002):
//
//  1. one of touser and touser_openId, and data a JSON object of {"value": …} (2002);
//  2. a magic recipient errno_<N> of the template table (N); a touser_openId that is not one of
//     the app's users under policy.open_ids issued (4004: the doc's table has no open_id errno
//     for this endpoint [inf]; under any, a warning);
//  3. a template the app does not have (4001; any, with a warning, when it lists none);
//  4. the scene: unknown, of another user, of a guest sent with touser_openId (or the reverse),
//     of another type (4004); past its 7 days (4003 a form, 4004 a payment); its messages used
//     (the same); success with a message key.
type templateCall struct {
	templateID, toUser, toOpenID, sceneID, sceneType string
	data                                             string
}

func (tc *templateCall) decide(ctx context.Context, c *call, app store.App, appNow time.Time) (reply, error) {
	d, out, err := tc.decision(ctx, c.s, app, appNow)
	if err != nil {
		return reply{}, err
	}
	return c.envelopeReply(d, out), nil
}

func (tc *templateCall) decision(ctx context.Context, s *Server, app store.App, appNow time.Time) (Decision, []byte, error) {
	if tc.toUser == "" && tc.toOpenID == "" {
		return business(smartappmock.ErrnoTemplateParam, "touser, touser_openId: one is required (the swan_id of a guest, the open_id of a logged-in user)"), nil, nil
	}
	if reason := checkTemplateData(tc.data); reason != "" {
		return business(smartappmock.ErrnoTemplateParam, reason), nil, nil
	}
	recipient, guest := tc.toOpenID, false
	if recipient == "" {
		recipient, guest = tc.toUser, true
	}
	name := "touser_openId"
	if guest {
		name = "touser"
	}
	if v, ok := s.magicErrno(name, recipient, s.knownTemplateErrno); ok {
		return v, nil, nil
	}
	var warnings []store.Warning
	if !guest {
		issued, err := s.issuedOpenID(ctx, app.ID, recipient) // users.go: policy.open_ids
		if err != nil {
			return Decision{}, nil, err
		}
		if issued.refused {
			return business(smartappmock.ErrnoSceneInvalid, strings.Replace(issued.d.Reason, "open_id", "touser_openId", 1)), nil, nil
		}
		if issued.warn {
			warnings = []store.Warning{WarnUnissuedOpenID.Warning()}
		}
	}
	if ok, listed := s.apps[app.ID].HasTemplate(tc.templateID, s.cfg.Policy.Templates); !ok {
		return business(smartappmock.ErrnoTemplateID, reasonTemplateUnknown(tc.templateID, app.ID)), nil, nil
	} else if !listed {
		warnings = append(warnings, WarnUnlistedTemplate.Warning())
	}
	v, err := s.takeScene(ctx, app.ID, appNow, tc.sceneID, tc.sceneType, recipient, guest)
	if err != nil || v.Code != 0 {
		v.Warnings = warnings
		return v, nil, err
	}
	key, err := s.msgKey(ctx, app.ID)
	if err != nil {
		return Decision{}, nil, err
	}
	v.Reason += "; msg_key " + strconv.FormatInt(key, 10)
	v.Warnings = warnings
	return v, msgKeyBody(key), nil
}

// takeScene decides the scene of a template message to recipient and counts the message on it.
func (s *Server) takeScene(ctx context.Context, app string, appNow time.Time, sceneID, typ, recipient string, guest bool) (Decision, error) {
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
