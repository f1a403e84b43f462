package admin

// The third-party platform's pushes on demand: the ticket and the authorization events, pushed
// to platforms[].push.url. The handler decodes, calls the API core's PlatformPush and renders.
//
//	POST /__admin/platforms/{platform}/push   {"event":"ticket"} or {"event":"AUTHORIZED","app":"10001"}; ?wait=false: queued

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/smartappmock/smartappmock/baidupush"
)

// PlatformPushRequest is the body of POST /__admin/platforms/{platform}/push.
type PlatformPushRequest struct {
	// Event is "ticket", "AUTHORIZED", "UNAUTHORIZED" or "UPDATE_AUTHORIZED".
	Event string `json:"event"`
	// App is the mini program of an authorization event.
	App string `json:"app,omitempty"`
}

// PlatformPushAnswer is the answer of POST /__admin/platforms/{platform}/push.
type PlatformPushAnswer struct {
	Platform string `json:"platform"`
	// ID is the push id (getmsg's list[].id).
	ID    int64  `json:"id"`
	Event string `json:"event"`
	// Message is the plain JSON pushed (encrypted on the wire).
	Message json.RawMessage `json:"message"`
	// Content is the Encrypt field, as getmsg lists it.
	Content string `json:"content"`
	// Status is 1 (delivered) or 2 (failed), as getmsg answers it; 0 (pending) when queued.
	Status int `json:"status"`
	// Outcome is "delivered", "failed", "canceled", "invalid", or "queued" (?wait=false, or a
	// replica that stopped while the caller waited: follow it in GET /__admin/pushes/{id}).
	Outcome string `json:"outcome"`
	// Result is the delivery, every attempt with the platform's answer.
	Result baidupush.Result `json:"result"`
}

func (a *API) platformPush(w http.ResponseWriter, r *http.Request) {
	var in PlatformPushRequest
	if !decodeInput(w, r, &in, `{"event":"ticket"} or {"event":"AUTHORIZED","app":"..."}`) {
		return
	}
	queue, ok := queueParam(w, r)
	if !ok {
		return
	}
	push := a.core.PlatformPush
	if queue {
		push = a.core.PlatformPushQueued
	}
	out, err := push(context.WithoutCancel(r.Context()), mux.Vars(r)["platform"], in.Event, in.App)
	if err != nil {
		coreFailed(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, PlatformPushAnswer{Platform: out.Platform, ID: out.ID, Event: out.Event, Message: json.RawMessage(out.Message),
		Content: out.Content, Status: out.Status, Outcome: string(out.Result.Outcome), Result: out.Result})
}

// PlatformPush asks POST /__admin/platforms/{platform}/push: the ticket or an authorization event
// pushed to the platform now, waiting for its delivery.
func (c *Client) PlatformPush(ctx context.Context, platform string, in PlatformPushRequest) (PlatformPushAnswer, error) {
	var out PlatformPushAnswer
	return out, c.Do(ctx, http.MethodPost, Prefix+"/platforms/"+url.PathEscape(platform)+"/push", in, &out)
}

// PlatformPushQueued asks POST /__admin/platforms/{platform}/push?wait=false: the push is put in
// the outbox and answered queued at once.
func (c *Client) PlatformPushQueued(ctx context.Context, platform string, in PlatformPushRequest) (PlatformPushAnswer, error) {
	var out PlatformPushAnswer
	return out, c.Do(ctx, http.MethodPost, Prefix+"/platforms/"+url.PathEscape(platform)+"/push?wait=false", in, &out)
}
