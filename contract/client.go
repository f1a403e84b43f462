package contract

import (
	"context"
	"errors"
	"time"
)

// Conn is what a client needs to reach the service under test.
type Conn struct {
	// BaseURL replaces https://openapi.baidu.com, e.g. "http://127.0.0.1:41234".
	BaseURL string
	// ClientID and ClientSecret are the app's credentials (App Key and App Secret).
	ClientID     string
	ClientSecret string
	// TokenCache is a file path, private to the case and shared by its messages, where a client that
	// runs as one process per message may keep its access token (SMARTAPP_TOKEN_CACHE). The file
	// does not exist at the start of a case.
	TokenCache string
	// Endpoint is EndpointSend (custom/send with the app's own token from /oauth/2.0/token) or
	// EndpointSendByTP (custom/sendbytp as a third-party platform, with the authorizer token).
	Endpoint string
	// PlatformKey and PlatformTicket (sendbytp) get the platform token (42.) from
	// /public/2.0/smartapp/auth/tp/token?client_id=<key>&ticket=<ticket>.
	PlatformKey, PlatformTicket string
	// AuthorizationCode (sendbytp) is the app's consent: exchange it once at /rest/2.0/oauth/token
	// (grant_type app_to_tp_authorization_code, access_token the platform token) for the authorizer
	// token (45.) and its single-use refresh token (46.); keep both in TokenCache.
	AuthorizationCode string
	// AnswerTimeout is how long the client may wait for one answer in this run (SMARTAPP_TIMEOUT, in
	// whole seconds): half of Suite.SlowHold, so that it gives up on a held answer in time and a
	// busy machine still has room. A client may keep its own limit (Baidu's Go SDK: 3 s) instead.
	AnswerTimeout time.Duration
	// TemplateID and SubscribeID (the messages family) name a consent the user gave to a
	// subscribe message: when a send answers errno 90001 (the window is closed), fall back to
	// /rest/2.0/smartapp/template/message/subscribe/send with them, once. Empty: no consent.
	TemplateID, SubscribeID string
	// CheckText (the messages family) asks the client to check each text with
	// /rest/2.0/smartapp/riskDetection/v2/syncCheckText first and not send one the check refuses.
	CheckText bool
}

// The endpoints a client may be run against (Suite.Endpoint, `contract run --endpoint`).
const (
	// EndpointSend is /rest/2.0/smartapp/message/custom/send, the mini program's own.
	EndpointSend = "send"
	// EndpointSendByTP is /rest/2.0/smartapp/message/custom/sendbytp, a third-party platform's.
	EndpointSendByTP = "sendbytp"
)

// Message is one customer-service message the kit asks the client to send.
type Message struct {
	// UserType is 1 (guest) or 2 (Baidu account).
	UserType int
	// OpenID is the user.
	OpenID string
	// MsgType is "text" or "image".
	MsgType string
	// Content is the text of a text message.
	Content string
	// PicURL is the image link of an image message.
	PicURL string
}

// Client is what a Go user implements around their own code: Send delivers one message and returns
// nil only when the service answered success. Send must honour ctx. The kit builds one Client per
// case (so token caches never leak between cases) and calls Send once per message, one at a time.
type Client interface {
	Send(ctx context.Context, m Message) error
}

// ClientFunc adapts a function to Client.
type ClientFunc func(ctx context.Context, m Message) error

// Send calls f.
func (f ClientFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

// Coder is implemented by client errors that name the code the client saw: the business errno
// (3001, 30022, 90001, 90002) or the gateway error_code (110, 111, 17, 18, …). The kit finds it
// with errors.As and checks it against what the fake answered.
type Coder interface {
	Code() int
}

// Outcome is what a client said about one message.
type Outcome struct {
	// Delivered is true when the client reported success.
	Delivered bool
	// Code is the code the client named (Named true), from a Coder error or the last JSON line of a
	// command's stdout.
	Code  int
	Named bool
	// Err is the client's error text (Go) or the tail of its stderr (command), for the report.
	Err string
	// Crash says how the client failed to give an answer at all: a panic, a signal, a run past the
	// time limit, or the kit stopping an endless loop. Empty for a normal answer.
	Crash string
	// Elapsed is how long the client took.
	Elapsed time.Duration
}

// outcomeOf turns a Go client's error into an Outcome.
func outcomeOf(err error) Outcome {
	if err == nil {
		return Outcome{Delivered: true}
	}
	o := Outcome{Err: err.Error()}
	var c Coder
	if errors.As(err, &c) {
		o.Code, o.Named = c.Code(), true
	}
	return o
}
