package inbox

import (
	"strconv"

	"github.com/smartappmock/smartappmock/store"
)

// inboxPush is what the conversation view needs of a push entry (a user's message or one
// attempt to push it to the bot): the MsgId that ties the attempts to the message, and how the
// attempt went.
type inboxPush struct {
	MsgID string `json:"msg_id"`
	// Attempt and Attempts number the attempt ("1" of "3"); empty for the user's message.
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
}

// pushFields fills in the push part of an item made from a push entry (store.EndpointPush or
// store.EndpointUserMessage); other entries are left as they are.
func pushFields(it *inboxItem, e *store.Entry) {
	if e.Endpoint != store.EndpointPush && e.Endpoint != store.EndpointUserMessage {
		return
	}
	p := &inboxPush{Status: e.Status, Acked: e.Endpoint == store.EndpointPush && e.Code == 0,
		LatencyUS: e.LatencyMicros, Faults: e.Fault}
	for _, prm := range e.Params {
		switch prm.Name {
		case "msg_id":
			p.MsgID = prm.Value
		case "attempt":
			p.Attempt, _ = strconv.Atoi(prm.Value)
		case "attempts":
			p.Attempts, _ = strconv.Atoi(prm.Value)
		case "body":
			p.Body = prm.Value
		case "duplicate":
			p.Duplicate = prm.Value == "true"
		}
	}
	p.Pushed = p.MsgID != "" && p.MsgID != "0"
	it.Push = p
	// A journal entry of the push is a success when it went as it should: the user's message
	// always, an attempt when the bot acknowledged it.
	it.OK = e.Endpoint == store.EndpointUserMessage || p.Acked
}
