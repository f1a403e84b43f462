package store

import (
	"strconv"
	"time"

	"github.com/smartappmock/smartappmock"
)

// Entry is one request in the journal: what was sent, where each parameter came from, and what the
// fake answered and why.
type Entry struct {
	// Seq orders entries across apps and servers; higher is newer.
	Seq uint64 `json:"seq"`
	// ID is the request id, also sent in the X-Smartappmock-Request-Id header.
	ID string `json:"id"`
	// Time is the server's wall-clock time; AppTime is the app's clock.
	Time    time.Time `json:"time"`
	AppTime time.Time `json:"app_time"`
	// App is the app the request was charged to, "" when none could be told.
	App string `json:"app"`
	// Token is the redacted access token (a prefix and a hash, never the token).
	Token string `json:"token,omitempty"`
	// Endpoint is what was called: "send" (custom/send), "sendbytp" (custom/sendbytp), "token"
	// (the OAuth token endpoint), "tp_token", "tp_preauthcode" and "tp_oauth" (a third-party
	// platform's token, pre-authorization code and authorizer token), "unknown" (a path or method
	// the API does not have), EndpointPush (one attempt of a message push) or
	// EndpointUserMessage (a user writing to the app); "subscribe_send" and "template_send"
	// (subscribe and template messages), "subscription" (a user's consent), "check_text",
	// "check_image" and "detectrisk" (the content checks).
	Endpoint    string `json:"endpoint"`
	Method      string `json:"method"`
	Path        string `json:"path"`
	ContentType string `json:"content_type,omitempty"`
	// Params are the merged parameters, secrets redacted, each with its source.
	Params []Param `json:"params"`
	// OpenID and MsgType repeat the send's parameters for filtering.
	OpenID  string `json:"open_id,omitempty"`
	MsgType string `json:"msg_type,omitempty"`
	// Layer and Code are the answer: ("business", 0) is success.
	Layer smartappmock.Layer `json:"layer"`
	Code  int                `json:"code"`
	// OAuthError is the error of a failed token request.
	OAuthError string `json:"oauth_error,omitempty"`
	// Status is the HTTP status answered.
	Status int `json:"status"`
	// Reason says why the fake answered as it did.
	Reason string `json:"reason"`
	// Rule names the rule or magic value that forced the answer, if any.
	Rule string `json:"rule,omitempty"`
	// Fault describes the network failure injected into the answer, if any, for people:
	// "[latency 1.2s + ]<kind> (<source>)[; <how the delivery went>]", e.g. "http_503 (faults[0])";
	// Status is then what the client got (0: no HTTP answer at all).
	Fault string `json:"fault,omitempty"`
	// FaultKind is the kind of that failure ("http_503", "truncated"), empty when there was none
	// or the fault only delayed the answer (a latency alone).
	FaultKind string `json:"fault_kind,omitempty"`
	// FaultPhase says where the fault struck: "before" (the request never reached the service:
	// nothing was counted) or "after" (the service acted and counted; its answer was lost).
	FaultPhase string `json:"fault_phase,omitempty"`
	// Warnings list every way the answer is one the real service would not give.
	Warnings []Warning `json:"warnings,omitempty"`
	// LatencyMicros is how long the fake took to answer.
	LatencyMicros int64 `json:"latency_us"`
	// Push is set on the entries of the message push (EndpointUserMessage, EndpointPush): the
	// MsgId, and for an attempt what the bot answered. Status and LatencyMicros are then the
	// bot's HTTP status (0: no answer) and the attempt's time.
	Push *PushAttempt `json:"push,omitempty"`
}

// PushAttempt is what a journal entry of the message push records beyond the request: on a
// user's message the MsgId alone, on an attempt to push it to the bot also which attempt it
// was and what the bot answered.
type PushAttempt struct {
	// MsgID is the message's MsgId; 0 when the app had no push configuration (nothing pushed).
	MsgID int64 `json:"msg_id"`
	// Attempt numbers the attempt from 1, of Attempts in all (0 on a user's message).
	Attempt  int `json:"attempt,omitempty"`
	Attempts int `json:"attempts,omitempty"`
	// Mode is the push's encryption mode: "plain", "secure" or "compatible".
	Mode string `json:"mode,omitempty"`
	// Duplicate marks the extra delivery of the duplicate fault (same MsgId, same bytes).
	Duplicate bool `json:"duplicate,omitempty"`
	// Answer is the first bytes of the bot's answer.
	Answer string `json:"answer,omitempty"`
	// Faults are the kinds of the push faults of the delivery, the app's then the call's.
	Faults []string `json:"faults,omitempty"`
	// Delivery numbers the deliveries of the push: 1 the first, more when the push was claimed
	// again from the outbox (its replica stopped or died) or redelivered.
	Delivery int `json:"delivery,omitempty"`
	// Redelivery marks the attempts of a redelivery asked for through the admin API.
	Redelivery bool `json:"redelivery,omitempty"`
	// Replica names the replica (outbox consumer) that made the attempt.
	Replica string `json:"replica,omitempty"`
	// Verdict is the API core's word for the attempt: "acknowledged", "refused",
	// "bad_signature", "timed_out", "unreachable" or "canceled".
	Verdict string `json:"verdict,omitempty"`
	// AnswerTruncated says the bot's answer was longer than Answer.
	AnswerTruncated bool `json:"answer_truncated,omitempty"`
	// Request is the attempt's request, byte for byte.
	Request *PushRequest `json:"request,omitempty"`
}

// PushRequest is one request of a push, as it was sent.
type PushRequest struct {
	// URL is the target with the query the push carried (signature, timestamp, nonce, …).
	URL string `json:"url"`
	// ContentType is the Content-Type header.
	ContentType string `json:"content_type"`
	// Body is the body, byte for byte, or its first bytes when Truncated.
	Body string `json:"body"`
	// Truncated says Body is cut (the API core keeps the first 64 KiB of a body).
	Truncated bool `json:"truncated,omitempty"`
}

// Warning is one way an answer differs from what the real service would answer: a kind to count
// and filter by (e.g. "sandbox_token", "magic_value"), and one short sentence.
type Warning struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// Param is one request parameter and where it came from.
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// Source is "query" or "body".
	Source string `json:"source"`
	// Used is false for a value that another source overrode or that is a repeat.
	Used bool `json:"used"`
}

// OK reports whether the entry is a success.
func (e *Entry) OK() bool {
	return (e.Layer == smartappmock.LayerBusiness && e.Code == 0) || (e.Layer == smartappmock.LayerOAuth && e.OAuthError == "")
}

// Outcome renders the answer as "<layer> <code>" ("business 0"), "oauth ok" or "oauth <error>".
func (e *Entry) Outcome() string {
	if e.Layer == smartappmock.LayerOAuth {
		if e.OAuthError == "" {
			return "oauth ok"
		}
		return "oauth " + e.OAuthError
	}
	return string(e.Layer) + " " + strconv.Itoa(e.Code)
}

// Query selects journal entries. Empty fields match everything.
type Query struct {
	App    string
	OpenID string
	// Endpoint is an Entry.Endpoint value: "send", "sendbytp", "token", "tp_token",
	// "tp_preauthcode", "tp_oauth", "unknown", "push" or "user_message".
	Endpoint string
	// Outcome is "ok", "error", a code ("<code>"), "<layer> <code>" or an OAuth error
	// ("invalid_client").
	Outcome string
	// MsgID, when not 0, keeps the entries of the message push with that MsgId.
	MsgID int64
	// Before and After are cursors: only entries with After < Seq < Before (0: no bound).
	Before, After uint64
	// Limit is the most entries to return (0: all held).
	Limit int
}

// Matches reports whether the entry passes the filters of q (its cursors and Limit aside).
func (q Query) Matches(e *Entry) bool {
	if q.App != "" && e.App != q.App {
		return false
	}
	if q.OpenID != "" && e.OpenID != q.OpenID {
		return false
	}
	if q.Endpoint != "" && e.Endpoint != q.Endpoint {
		return false
	}
	if q.MsgID != 0 && (e.Push == nil || e.Push.MsgID != q.MsgID) {
		return false
	}
	switch q.Outcome {
	case "":
	case "ok":
		return e.OK()
	case "error":
		return !e.OK()
	default:
		if q.Outcome == e.Outcome() || (e.OAuthError != "" && q.Outcome == e.OAuthError) {
			return true
		}
		return e.Layer != smartappmock.LayerOAuth && q.Outcome == strconv.Itoa(e.Code)
	}
	return true
}

// InRange reports whether seq is within the cursors of q (After < seq < Before).
func (q Query) InRange(seq uint64) bool {
	return seq > q.After && (q.Before == 0 || seq < q.Before)
}
