package admin

// A free-form push: any fields pushed to an app's bot (an event, a MsgType Baidu does not
// document, or a message with fields overridden). The handler decodes, calls the API core's
// PushFields and renders its answer.
//
//	POST /__admin/apps/{app}/push/fields   {"open_id":"user-1","fields":{"MsgType":"event","Event":"…"}}

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver"
)

// PushFields is the body of POST /__admin/apps/{app}/push/fields.
type PushFields struct {
	// OpenID is the user (FromUserName unless Fields sets it).
	OpenID string `json:"open_id"`
	// Fields are the push's fields: JSON strings render as strings, JSON integers as numbers.
	// MsgType is required; ToUserName, FromUserName, CreateTime and (but for events) MsgId have
	// defaults.
	Fields map[string]json.RawMessage `json:"fields"`
	// Faults apply to this push, after the app's own (config.PushFault).
	Faults []config.PushFault `json:"faults,omitempty"`
}

// PushedFields is the answer of POST /__admin/apps/{app}/push/fields.
type PushedFields struct {
	App    string `json:"app"`
	OpenID string `json:"open_id"`
	// CreateTime is the app's clock when the push was made.
	CreateTime time.Time `json:"create_time"`
	// Fields are the fields pushed, in the order rendered (the plain JSON of the push).
	Fields json.RawMessage `json:"fields"`
	// WindowOpened says the push was a user's message (text or image) and opened the window.
	WindowOpened bool `json:"window_opened"`
	// Outcome is "delivered", "failed", "canceled", "invalid" or "no_push".
	Outcome string `json:"outcome"`
	// Summary says what happened in one sentence.
	Summary string `json:"summary"`
	// Result is the delivery, every attempt with the bot's answer.
	Result baidupush.Result `json:"result"`
}

// FieldsOf reads the fields of a PushFields body: strings and integers; anything else is an
// error naming the field.
func FieldsOf(in map[string]json.RawMessage) (baidupush.Fields, error) {
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	sort.Strings(names)
	var f baidupush.Fields
	for _, k := range names {
		raw := bytes.TrimSpace(in[k])
		var s string
		if json.Unmarshal(raw, &s) == nil {
			f = append(f, baidupush.Field{Name: k, Value: s})
			continue
		}
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("fields.%s: %s; want a string or an integer", k, raw)
		}
		f = append(f, baidupush.Field{Name: k, Number: n, IsNumber: true})
	}
	return f, nil
}

func (a *API) pushFields(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	var in PushFields
	if !decodeInput(w, r, &in, `{"open_id":"user-1","fields":{"MsgType":"event","Event":"…"}}`) {
		return
	}
	f, err := FieldsOf(in.Fields)
	if err != nil {
		WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	if _, set := f.Get("FromUserName"); in.OpenID == "" && !set {
		WriteError(w, http.StatusBadRequest, `open_id: required (or fields.FromUserName)`)
		return
	}
	// A browser navigating away must not cut a delivery short: the attempts are bounded anyway.
	out, err := a.core.PushFields(context.WithoutCancel(r.Context()), mockserver.FreePush{App: app.ID, OpenID: in.OpenID, Fields: f, Faults: in.Faults})
	if err != nil {
		coreFailed(w, err)
		return
	}
	body, err := out.Fields.MarshalFormat(baidupush.FormatJSON)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, err.Error())
		return
	}
	WriteJSON(w, http.StatusOK, PushedFields{App: out.App, OpenID: out.OpenID, CreateTime: out.CreateTime, Fields: body,
		WindowOpened: out.WindowOpened, Outcome: out.Outcome, Summary: out.Summary, Result: out.Result})
}

// PushFields asks POST /__admin/apps/{app}/push/fields: a free-form push to the app's bot.
func (c *Client) PushFields(ctx context.Context, app string, in PushFields) (PushedFields, error) {
	var out PushedFields
	return out, c.Do(ctx, http.MethodPost, Prefix+"/apps/"+url.PathEscape(app)+"/push/fields", in, &out)
}
