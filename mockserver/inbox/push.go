package inbox

import (
	"strconv"
	"strings"

	"github.com/smartappmock/smartappmock/store"
)

// inboxPush is what the conversation view needs of a push entry (a user's message or one
// attempt to push it to the bot): the MsgId that ties the attempts to the message, and how the
// attempt went.
type inboxPush struct {
	// MsgID is a string: the page's JavaScript would round an int64 above 2^53.
	MsgID string `json:"msg_id"`
	// Attempt and Attempts number the attempt (1 of 3); 0 for the user's message.
	Attempt  int `json:"attempt,omitempty"`
	Attempts int `json:"attempts,omitempty"`
	// Status is the bot's HTTP status (0: no answer), Acked whether it acknowledged.
	Status    int   `json:"status"`
	Acked     bool  `json:"acked"`
	Duplicate bool  `json:"duplicate,omitempty"`
	LatencyUS int64 `json:"latency_us"`
	// Body is the first bytes of the bot's answer.
	Body string `json:"body,omitempty"`
	// Faults are the push faults of the delivery, comma-separated.
	Faults string `json:"faults,omitempty"`
	// Pushed is false for a user's message of an app without a push configuration.
	Pushed bool `json:"pushed"`
	// Verdict is the attempt's verdict (acknowledged, refused, bad_signature, timed_out,
	// unreachable, canceled); Delivery numbers the delivery it belongs to, Redelivery marks a
	// redelivery's, Replica the replica that made it.
	Verdict    string `json:"verdict,omitempty"`
	Delivery   int    `json:"delivery,omitempty"`
	Redelivery bool   `json:"redelivery,omitempty"`
	Replica    string `json:"replica,omitempty"`
	// Request is the attempt's request, byte for byte.
	Request *store.PushRequest `json:"request,omitempty"`
}

// pushFields fills in the push part of an item made from a push entry (store.EndpointPush or
// store.EndpointUserMessage, with its store.PushAttempt); other entries are left as they are.
func pushFields(it *inboxItem, e *store.Entry) {
	if e.Push == nil || (e.Endpoint != store.EndpointPush && e.Endpoint != store.EndpointUserMessage) {
		return
	}
	at := e.Push
	p := &inboxPush{MsgID: strconv.FormatInt(at.MsgID, 10), Attempt: at.Attempt, Attempts: at.Attempts,
		Status: e.Status, Acked: e.Endpoint == store.EndpointPush && e.Code == 0, Duplicate: at.Duplicate,
		LatencyUS: e.LatencyMicros, Body: at.Answer, Faults: strings.Join(at.Faults, ","), Pushed: at.MsgID != 0,
		Verdict: at.Verdict, Delivery: at.Delivery, Redelivery: at.Redelivery, Replica: at.Replica, Request: at.Request}
	it.Push = p
	// A journal entry of the push is a success when it went as it should: the user's message
	// always, an attempt when the bot acknowledged it.
	it.OK = e.Endpoint == store.EndpointUserMessage || p.Acked
}
