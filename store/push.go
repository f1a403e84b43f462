package store

import "context"

// Pusher is what a store keeps for Baidu's message push (issue 13), beside the Store contract:
// each app's push configuration, and the MsgId counter that makes every pushed message's MsgId
// unique across the replicas on the store. It is a separate interface so that the Store contract
// stays as it is; the in-memory store (memory_push.go) and the Redis store implement it, and the
// admin API finds it with a type assertion (a store without it has no push).
//
// The configuration is opaque bytes (the admin API keeps the JSON of a push.Config): the store
// holds no server type. A stored configuration survives Reset: it is set at run time, like an
// app's clock would be if Reset did not restore it, and the configuration file's apps[].push is
// the fallback whenever the store holds none for an app. PutPush with an empty value records
// "no push" for the app, which hides a configured apps[].push until DeletePush.
type Pusher interface {
	// PutPush stores app's push configuration (empty: push switched off for the app).
	PutPush(ctx context.Context, app string, cfg []byte) error
	// Push returns app's stored push configuration and whether one is stored.
	Push(ctx context.Context, app string) (cfg []byte, ok bool, err error)
	// DeletePush forgets app's stored push configuration (the configured one applies again).
	DeletePush(ctx context.Context, app string) error
	// NextMsgID returns a number never returned before by this store (1, 2, 3, …), across
	// every server sharing it and across Reset.
	NextMsgID(ctx context.Context) (uint64, error)
}

// The endpoints of the journal entries of the message push (Entry.Endpoint).
const (
	// EndpointPush is one attempt to push a user's message to the app's bot: Status is the bot's
	// HTTP status (0: no answer), Code 0 an acknowledgement and 1 anything else, Reason why,
	// LatencyMicros the attempt's time, Fault the push faults of the delivery; Params carry
	// msg_id, attempt, attempts, mode, duplicate, the message and the first bytes of the bot's
	// answer (body, source "answer").
	EndpointPush = "push"
	// EndpointUserMessage is a user writing to the app's customer service (the admin API's "the
	// user writes"): the window opened, Params carry the message and msg_id.
	EndpointUserMessage = "user_message"
)
