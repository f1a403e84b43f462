package mockserver

import (
	"context"
	"time"
)

// Store keeps all mutable state of the fake, per app: registered apps, issued tokens, windows,
// request counters and the journal. Every method that decides something (TakeReply, TakeCount,
// RegisterApp) is an atomic check-and-update, so several replicas can share one Store. The default
// is the in-memory store of NewMemoryStore; the handlers see only this interface.
type Store interface {
	// RegisterApp stores app unless an app with the same ID exists; it returns the stored app and
	// whether it was created.
	RegisterApp(ctx context.Context, app AppState) (AppState, bool, error)
	// App returns an app by id.
	App(ctx context.Context, id string) (AppState, bool, error)
	// Apps lists every app, sorted by id.
	Apps(ctx context.Context) ([]AppState, error)
	// UpdateApp changes an app's capability and clock: a nil field is left as it is; advance is
	// added to the clock offset.
	UpdateApp(ctx context.Context, id string, capability *bool, advance time.Duration) (AppState, error)

	// PutToken stores an issued access or refresh token.
	PutToken(ctx context.Context, t Token) error
	// Token looks a token up by its value.
	Token(ctx context.Context, value string) (Token, bool, error)

	// OpenWindow records that a user wrote to the app at t: a fresh window with no replies.
	OpenWindow(ctx context.Context, app, openID string, t time.Time) error
	// TakeReply counts one reply to a user if the window rule allows it, atomically.
	TakeReply(ctx context.Context, app, openID string, now time.Time, rule WindowRule) (ReplyDecision, error)
	// Windows lists an app's windows.
	Windows(ctx context.Context, app string) ([]WindowState, error)

	// TakeCount adds one to an app's counter name for the period window (e.g. a day or a second)
	// if it is below limit (0: no limit), atomically, and returns the count after the call. A new
	// window starts the counter again at zero; only the current window of a name is kept.
	TakeCount(ctx context.Context, app, name, window string, limit int) (count int, ok bool, err error)
	// Counters returns an app's counters.
	Counters(ctx context.Context, app string) (map[string]Counter, error)

	// Append adds an entry to the journal of its app, dropping the oldest past the app's cap, and
	// returns the sequence number it gave the entry.
	Append(ctx context.Context, e Entry) (uint64, error)
	// Journal returns entries that match f, newest first.
	Journal(ctx context.Context, f JournalFilter) ([]Entry, error)
	// JournalStats returns how many entries an app's journal holds and how many were dropped.
	JournalStats(ctx context.Context, app string) (held, dropped int, err error)

	// Reset clears the windows, counters and journal of one app (or of every app and the
	// app-less journal when app is ""), and sets capability and clock back to base.
	Reset(ctx context.Context, app string, base func(AppState) AppState) error
}

// AppState is one app (tenant) as the store keeps it.
type AppState struct {
	// ID names the app; it ends its tokens.
	ID string `json:"id"`
	// ClientID and ClientSecret are its credentials (for a sandbox app, the first secret seen).
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"-"`
	// Source says how the app came to be: "config", "sandbox-client" or "sandbox-token".
	Source string `json:"source"`
	// Capability is whether customer service is on.
	Capability bool `json:"capability"`
	// ClockOffset is how far the app's clock is ahead of the server's.
	ClockOffset time.Duration `json:"clock_offset_ns"`
}

// Token is an issued access token or refresh token.
type Token struct {
	Value   string    `json:"-"`
	App     string    `json:"app"`
	Refresh bool      `json:"refresh"`
	Issued  time.Time `json:"issued"`
	// Expires is when the token stops working on the app's clock; zero never.
	Expires time.Time `json:"expires"`
}

// WindowRule is the customer-service window rule in force.
type WindowRule struct {
	Duration    time.Duration
	MaxReplies  int
	OpenOnFirst bool
}

// ReplyDecision is what TakeReply decided.
type ReplyDecision struct {
	// OK is whether the reply may be sent (and was counted).
	OK bool
	// Reason says why not (or, for OK, how the window stands).
	Reason string
	// Window is the window after the decision.
	Window WindowState
}

// WindowState is the state of one user's window.
type WindowState struct {
	OpenID   string    `json:"open_id"`
	OpenedAt time.Time `json:"opened_at"`
	Replies  int       `json:"replies"`
	// UserMessage is false for a window the fake opened on a first send.
	UserMessage bool `json:"user_message"`
}

// Counter is one request counter of an app: its current period and count.
type Counter struct {
	Window string `json:"window"`
	Count  int    `json:"count"`
}

// JournalFilter selects journal entries. Empty fields match everything.
type JournalFilter struct {
	App    string
	OpenID string
	// Outcome is "ok", "error", a code ("3001", "110") or "layer code" ("business 3001").
	Outcome string
	// Limit is the most entries to return (0: all held).
	Limit int
}
