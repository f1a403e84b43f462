// Package store is the state model of the fake and the contract every store keeps: apps, tokens,
// windows, counters, rules, fault plans and the journal with its live feed. Each method that
// decides something is one atomic operation, so any number of servers (replicas) sharing one Store
// agree on every window, limit, rule use and fault step. It imports no server package; the
// in-memory store is memstore, the shared one redisstore, and storetest holds the conformance
// suite that both pass.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/smartappmock/smartappmock/config"
)

// NoApp is the tenant of requests that could not be charged to an app (no token, an unknown path,
// a magic token). Its counters also hold the rules' use counts.
const NoApp = ""

// ErrUnknownApp is returned (wrapped) by operations on an app the store does not hold.
var ErrUnknownApp = errors.New("unknown app")

// ErrConfiguredApp is returned (wrapped) by DeleteApp for an app of the configuration.
var ErrConfiguredApp = errors.New("a configured app cannot be deleted (reset it instead)")

// Store keeps all mutable state of the fake. Every method is safe for concurrent use, and every
// method that decides (RegisterApp, TakeReply, TakeCount, TakeFault, Send, Seed, Reset) is
// atomic, or (Send on a store without scripts) a fixed order of atomic steps.
type Store interface {
	// Send is the stateful part of one send, in the order SendSteps defines: the token, the fault
	// plans, the gateway rules and limits, the business rules, capability and the window, and
	// the journal entry with the decision written in (unless a fault picked the send). A store
	// that runs scripts does it in one round trip, on its own clock; the in-memory store runs
	// SendSteps.
	Send(ctx context.Context, in SendInput) (SendResult, error)

	// Seed stores the configured state where it is absent: apps, tokens and open windows that the
	// store does not hold yet, and the rules and fault plans when none were ever set. It never
	// changes what is there, so a replica that starts never resets what the others counted.
	Seed(ctx context.Context, s Seed) error
	// Reset restores the configured state s in one step. For every app (app == ""): everything
	// is dropped (apps, tokens, windows, counters, journal, clocks) and s is seeded afresh, with
	// its rules and fault plans; fault counts start again. For one app: its windows, counters
	// and journal are dropped, its capability and clock set back as s has them (a sandbox app:
	// on, no offset), and its configured windows reopened at s.At.
	Reset(ctx context.Context, app string, s Seed) error

	// RegisterApp stores app unless an app with the same ID exists; it returns the stored app
	// and whether it was created.
	RegisterApp(ctx context.Context, app App) (App, bool, error)
	// App returns an app by id.
	App(ctx context.Context, id string) (App, bool, error)
	// Apps lists every app, sorted by id.
	Apps(ctx context.Context) ([]App, error)
	// DeleteApp forgets an app that did not come from the configuration: its state, its journal
	// and its tokens (a sandbox app a test made). It fails with ErrConfiguredApp for a configured
	// app and ErrUnknownApp for an app the store does not hold.
	DeleteApp(ctx context.Context, id string) error
	// UpdateApp changes an app's capability and clock: a nil capability is left as it is;
	// advance is added to the clock offset.
	UpdateApp(ctx context.Context, id string, capability *bool, advance time.Duration) (App, error)

	// PutToken stores an issued access or refresh token.
	PutToken(ctx context.Context, t Token) error
	// Token looks a token up by its value.
	Token(ctx context.Context, value string) (Token, bool, error)

	// OpenWindow records that a user wrote to the app at t: a fresh window with no replies.
	OpenWindow(ctx context.Context, app, openID string, t time.Time) error
	// TakeReply counts one reply to a user if the window rule allows it.
	TakeReply(ctx context.Context, app, openID string, now time.Time, rule WindowRule) (ReplyDecision, error)
	// Windows lists an app's windows, sorted by open_id.
	Windows(ctx context.Context, app string) ([]Window, error)

	// TakeCount adds one to an app's counter name for the period (a day, a second, a rule set's
	// version) if it is below limit (0: no limit), and returns the count after the call. A new
	// period starts the counter again at zero; only the current period of a name is kept.
	TakeCount(ctx context.Context, app, name, period string, limit int) (count int, ok bool, err error)
	// Counters returns an app's counters.
	Counters(ctx context.Context, app string) (map[string]Counter, error)

	// Rules returns the rules in force with their version.
	Rules(ctx context.Context) (Rules, error)
	// PutRules replaces every rule; the new set gets a new version, so its use counts start at
	// zero.
	PutRules(ctx context.Context, rules []config.Rule) (Rules, error)

	// Faults returns the fault plans in force with their version.
	Faults(ctx context.Context) (Faults, error)
	// PutFaults replaces the top-level fault plans (an app's plans stay); counts start again.
	PutFaults(ctx context.Context, global []config.Fault) (Faults, error)
	// RestartFaults keeps the plans and starts their counts and draws again.
	RestartFaults(ctx context.Context) (Faults, error)
	// TakeFault counts one matching send for a fault plan of version v and decides, by p,
	// whether this send is faulted.
	TakeFault(ctx context.Context, v uint64, plan PlanID, p FaultPolicy) (FaultTake, error)
	// FaultCounts returns the counts of every plan of version v.
	FaultCounts(ctx context.Context, v uint64) (map[PlanID]FaultCount, error)

	// Append adds an entry to the journal of its app, dropping the oldest past the app's cap,
	// and returns the sequence number it gave the entry. Sequence numbers are unique and
	// increase by one per entry across the whole store.
	Append(ctx context.Context, e Entry) (uint64, error)
	// Journal returns entries that match q, newest first.
	Journal(ctx context.Context, q Query) ([]Entry, error)
	// JournalStats returns how many entries an app's journal holds and how many were dropped.
	JournalStats(ctx context.Context, app string) (held, dropped int, err error)
	// Feed returns up to limit entries with a sequence number above after, oldest first, from
	// every app. When there is none yet it waits until one is appended (by any server on the
	// store) or ctx ends. A feed keeps a bounded backlog: a reader that fell further behind sees
	// a gap in the sequence numbers.
	Feed(ctx context.Context, after uint64, limit int) ([]Entry, error)
	// Head returns the sequence number of the newest entry (0: none yet).
	Head(ctx context.Context) (uint64, error)

	// PutSession stores an inbox login session until its expiry.
	PutSession(ctx context.Context, id string, expires time.Time) error
	// Session reports whether a session is held and not expired at now.
	Session(ctx context.Context, id string, now time.Time) (bool, error)
	// DeleteSession ends a session.
	DeleteSession(ctx context.Context, id string) error

	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
}

// App is one app (tenant) as the store keeps it.
type App struct {
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

// Now returns the app's clock at the server time now.
func (a App) Now(now time.Time) time.Time { return now.Add(a.ClockOffset) }

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
	Window Window
}

// Window is the state of one user's window.
type Window struct {
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

// Rules are the rules in force. Version names the set: a rule's use count is the counter
// RuleCounter(i) of NoApp in the period RulePeriod(Version).
type Rules struct {
	Version uint64
	Rules   []config.Rule
}

// RuleCounter names the NoApp counter of the i-th rule's uses.
func RuleCounter(i int) string { return "rule:" + itoa(i) }

// RulePeriod names the counter period of a rule set's version.
func RulePeriod(v uint64) string { return "v" + utoa(v) }

// Faults are the fault plans in force: the top-level plans and each configured app's. Version
// changes whenever the plans are replaced or restarted; counts are kept per version.
type Faults struct {
	Version uint64
	Global  []config.Fault
	Apps    map[string][]config.Fault
}

// Empty reports whether no plan is in force.
func (f Faults) Empty() bool { return len(f.Global) == 0 && len(f.Apps) == 0 }

// PlanID names one fault plan: the top-level plans (App "") or an app's, and its index there.
type PlanID struct {
	App   string
	Index int
}

// FaultPolicy is what TakeFault needs of a plan to decide.
type FaultPolicy struct {
	// Skip lets the first Skip matching sends through.
	Skip int
	// Times caps the injections (0: no cap); Steps, when above zero, does too (a sequence).
	Times, Steps int
	// Probability, when strictly between 0 and 1, is the chance that a matching send is
	// faulted, drawn with Draw(Seed, matched).
	Probability float64
	Seed        uint64
}

// FaultTake is what TakeFault decided.
type FaultTake struct {
	// Injected is whether this send is faulted.
	Injected bool
	// Matched is the number of matching sends counted so far, this one included.
	Matched int
	// Step is the index of this injection (0 for the first), valid when Injected.
	Step int
}

// FaultCount is how a plan stands.
type FaultCount struct {
	Matched  int `json:"matched"`
	Injected int `json:"injected"`
}

// DecideFault is the rule of TakeFault, for stores that keep the counts in Go: it advances c for
// one matching send and says whether it is faulted.
func DecideFault(c *FaultCount, p FaultPolicy) FaultTake {
	c.Matched++
	t := FaultTake{Matched: c.Matched}
	if c.Matched <= p.Skip || (p.Times > 0 && c.Injected >= p.Times) || (p.Steps > 0 && c.Injected >= p.Steps) {
		return t
	}
	if p.Probability > 0 && p.Probability < 1 && Draw(p.Seed, uint64(c.Matched)) >= p.Probability {
		return t
	}
	t.Injected, t.Step = true, c.Injected
	c.Injected++
	return t
}

// Draw returns the n-th number in [0, 1) of the random source seeded with seed. It is a pure
// function, so every store and replica draws the same numbers for the same matching sends. It
// uses only 31-bit products and xor-shifts, which a Redis Lua script computes exactly.
func Draw(seed, n uint64) float64 {
	const m = 2147483647 // 2^31 - 1
	x := (seed%m + n%m) % m
	for range 4 {
		if x == 0 {
			x = 1
		}
		x = x * 48271 % m
		x ^= x >> 11
	}
	return float64(x%m) / m
}

// Seed is the configured state: what Seed stores where absent and Reset restores.
type Seed struct {
	// At is when the seeded windows open (server time).
	At time.Time
	// Apps are the configured apps, as configured.
	Apps []App
	// Tokens are the configured tokens (they never expire).
	Tokens []Token
	// Windows are the configured user messages: open windows at At.
	Windows []SeedWindow
	// Rules and Faults are the configured rules and top-level fault plans; AppFaults an app's.
	Rules     []config.Rule
	Faults    []config.Fault
	AppFaults map[string][]config.Fault
}

// SeedWindow is a window the configuration opens.
type SeedWindow struct {
	App, OpenID string
}

func itoa(i int) string { return utoa(uint64(i)) }

func utoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

// Stats are the sizes a store reports for the metrics (the in-memory store does: memstore).
type Stats struct {
	// Tenants is how many apps (and app-less journal buckets) the store holds.
	Tenants int
	// JournalEntries is how many journal entries it holds in all.
	JournalEntries int
	// Tokens is how many tokens it holds, issued and configured.
	Tokens int
}
