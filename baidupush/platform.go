package baidupush

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// The pushes Baidu makes to a third-party platform (第三方平台) at its authorization-event URL: the
// ticket every 10 minutes and the authorization events, always JSON, always encrypted, in the
// documented envelope {"Nonce","TimeStamp","Encrypt","MsgSignature"} (docs/baidu-push.md, "The
// third-party platform"). The trailing id of the encrypted block is the platform's key
// (client_id) [inf]. Nothing travels in the query [inf: the documented envelope carries it all].

// The documented contents of a platform's pushes.
const (
	// PlatformFromUserName is the FromUserName of a ticket push ("SmartAPP" in Baidu's sample;
	// its table says "SmartApp").
	PlatformFromUserName = "SmartAPP"
	// MsgTypeTicket is the MsgType of a ticket push; its Event is EventPush.
	MsgTypeTicket = "ticket"
	// EventPush is the Event of a ticket push.
	EventPush = "push"
	// EventAuthorized is a new authorization of a mini program (新建授权关系).
	EventAuthorized = "AUTHORIZED"
	// EventUnauthorized is an authorization removed (解除授权关系).
	EventUnauthorized = "UNAUTHORIZED"
	// EventUpdateAuthorized is an authorization changed (授权关系更新).
	EventUpdateAuthorized = "UPDATE_AUTHORIZED"
)

// TicketMessage is the decrypted content of a ticket push, with Baidu's field names and order.
type TicketMessage struct {
	Ticket       string `json:"Ticket"`
	FromUserName string `json:"FromUserName"`
	CreateTime   int64  `json:"CreateTime"`
	MsgType      string `json:"MsgType"`
	Event        string `json:"Event"`
}

// AuthorizationEvent is the decrypted content of an authorization event. AuthorizationCode and
// its lifetime are set on AUTHORIZED and UPDATE_AUTHORIZED only. AppID and TPAppID are numbers in
// Baidu's sample: an id that is not a number travels as a string [inf].
type AuthorizationEvent struct {
	AppID                      any    `json:"appId"`
	TPAppID                    any    `json:"tpAppId"`
	EventTime                  string `json:"eventTime"`
	Event                      string `json:"event"`
	AuthorizationCode          string `json:"authorizationCode,omitempty"`
	AuthorizationCodeExpiresIn int    `json:"authorizationCodeExpiresIn,omitempty"`
}

// EventTimeLayout is the layout of AuthorizationEvent.EventTime: "2019-01-14 12:45:10".
const EventTimeLayout = "2006-01-02 15:04:05"

// PlatformConfig is where and how a platform's pushes go.
type PlatformConfig struct {
	// URL is the platform's authorization-event URL.
	URL string
	// Token is the platform's verification token (消息验证TOKEN).
	Token string
	// EncodingAESKey is the platform's 43-character message key (消息加解密Key).
	EncodingAESKey string
	// ClientID is the platform's key: the trailing id of the encrypted block [inf].
	ClientID string
	// Timeout and Retries are as in Config (defaults 2 s and 2).
	Timeout Duration
	Retries *int
}

// MarshalPlatform renders a platform push's message (TicketMessage, AuthorizationEvent) as
// Baidu's JSON.
func MarshalPlatform(v any) ([]byte, error) { return marshalJSON(v) }

// config is c as the Config Deliver works with: secure JSON in the body envelope.
func (c PlatformConfig) config() Config {
	return Config{URL: c.URL, Token: c.Token, EncodingAESKey: c.EncodingAESKey, ClientID: c.ClientID, Mode: ModeSecure,
		Format: FormatJSON, Envelope: EnvelopeBody, Timeout: c.Timeout, Retries: c.Retries}.WithDefaults(c.ClientID)
}

// EncodePlatform builds the push of the JSON message msg to a platform with the randomness p: the
// documented envelope in the body, nothing in the query. It returns the request and the Encrypt
// field (what pushmsg/getmsg lists as a push's content [inf]).
func EncodePlatform(c PlatformConfig, msg []byte, p Params) (*Request, string, error) {
	if !json.Valid(msg) {
		return nil, "", errors.New("encode: a platform push is a JSON message")
	}
	cfg := c.config()
	enc, err := Encrypt(cfg.EncodingAESKey, cfg.ClientID, msg, p.Random)
	if err != nil {
		return nil, "", fmt.Errorf("encode: %w", err)
	}
	sig := MsgSignature(cfg.Token, p.Timestamp, p.Nonce, enc)
	body, err := bodyEnvelope(FormatJSON, p, enc, sig)
	if err != nil {
		return nil, "", err
	}
	return &Request{Query: url.Values{}, Body: body, ContentType: ContentTypeJSON, Timestamp: p.Timestamp, Nonce: p.Nonce, MsgSignature: sig}, enc, nil
}

// DeliverPlatform pushes a platform push encoded by EncodePlatform as Deliver pushes a message:
// the same attempts, retries, acknowledgement rule ("success" or empty) and faults, the same bytes
// on every attempt. id names the push in the Result.
func DeliverPlatform(ctx context.Context, client *http.Client, c PlatformConfig, req *Request, id int64, opts ...Option) Result {
	s := newSettings(opts)
	client = noRedirects(client)
	cfg := c.config()
	res := Result{MsgID: id, Sequence: 1, Faults: slices.Clone(s.faults), Attempts: []Attempt{}}
	if err := cfg.Validate(); err != nil {
		res.Outcome, res.Reason = OutcomeInvalid, err.Error()
		return res
	}
	req = req.Clone()
	req.MsgID = id
	return s.send(ctx, client, cfg, req, res)
}

// OpenPlatform verifies and decrypts a platform push the way a careful platform does: the
// envelope's MsgSignature over the token, TimeStamp, Nonce and Encrypt, then the decryption, and
// the trailing id when clientID is set. It returns the JSON message.
func OpenPlatform(token, encodingAESKey, clientID string, body []byte) ([]byte, error) {
	var env struct{ Nonce, TimeStamp, Encrypt, MsgSignature string }
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("body is not a platform push: %w", err)
	}
	if env.Encrypt == "" {
		return nil, errors.New("open: no Encrypt in a platform push")
	}
	if !VerifyMsgSignature(token, env.TimeStamp, env.Nonce, env.Encrypt, env.MsgSignature) {
		return nil, fmt.Errorf("%w: MsgSignature %q", ErrSignature, env.MsgSignature)
	}
	d, err := Decrypt(encodingAESKey, env.Encrypt)
	if err != nil {
		return nil, err
	}
	if clientID != "" && d.ClientID != clientID {
		return nil, fmt.Errorf("open: trailing id %q; want %q", d.ClientID, clientID)
	}
	return d.Msg, nil
}
