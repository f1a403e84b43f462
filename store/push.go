package store

import "context"

// Pusher is what a store keeps for Baidu's message push, beside the Store contract:
// each app's push configuration, and the MsgId counter that makes every pushed message's MsgId
// unique across the replicas on the store. It is a separate interface so that the Store contract
// stays as it is; the in-memory store (memory_push.go) and the Redis store implement it, and the
// API core finds it with a type assertion (a store without it has no push).
//
// The configuration is opaque bytes (the API core keeps the JSON of a config.Push): the store
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
	// LatencyMicros the attempt's time; Push holds the MsgId, the attempt, the mode, the push
	// faults and the first bytes of the bot's answer, and Params the message.
	EndpointPush = "push"
	// EndpointUserMessage is a user writing to the app's customer service (the API core's
	// UserWrites): the window opened, Params carry the message and Push its MsgId.
	EndpointUserMessage = "user_message"
	// EndpointPlatformPushAttempt is one attempt to push a third-party platform's ticket or
	// authorization event (App "platform:<key>"): fields as in EndpointPush, Push.MsgID the
	// push id.
	EndpointPlatformPushAttempt = "tp_push_attempt"
)
