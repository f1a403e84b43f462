// Package store is the state model of the fake and the contract every store keeps: apps, tokens,
// windows, counters, rules, fault plans and the journal with its live feed, offered as atomic
// primitives. It holds no decision of Baidu's (no order of checks, no code, no reason: those are
// the API core's, mockserver) and imports nothing of this module but the root package's
// vocabulary; the in-memory store is memstore, the shared one redisstore, and storetest holds the
// conformance suite that both pass.
package store

import (
	"context"
	"errors"
	"time"
)

// NoApp is the tenant of requests that could not be charged to an app (no token, an unknown path,
// a magic token). Its counters also hold the rules' use counts.
const NoApp = ""

// ErrUnknownApp is returned (wrapped) by operations on an app the store does not hold.
var ErrUnknownApp = errors.New("unknown app")

// ErrUnavailable is matched (errors.Is) by the error of a call the store did not answer in time,
// or could not answer at all (the connection to it failed): what the call did is unknown.
var ErrUnavailable = errors.New("the store does not answer")

// ErrConfiguredApp is returned (wrapped) by DeleteApp for an app of the configuration.
var ErrConfiguredApp = errors.New("a configured app cannot be deleted (reset it instead)")

// Store keeps all mutable state of the fake and offers it as atomic primitives: tokens, apps,
// counters with a limit and a period, reply takes in a user's window, fault-plan takes, the
// journal with its live feed, seed and reset, inbox sessions. It decides nothing of Baidu's: the
// order of a send's checks, its codes and every reason live in the API core (mockserver), which
// calls these primitives; a store only says what happened (a count, a window, a take refused by
// its limit) as typed facts. Every method is safe for concurrent use, and each is one atomic
// step, so any number of servers (replicas) sharing one Store agree on every window, limit, rule
// use and fault step.
type Store interface {
	// Lookup reads, in one step, what a send needs before it decides: the token, its app (or,
	// for a token the store does not hold, the app named fallback, when not empty), the versions
	// of the rules and fault plans in force, and the store's clock when it has one.
	Lookup(ctx context.Context, token, fallback string) (Lookup, error)
	// LookupWith is Lookup that also reads, in the same step, whether the app it found holds
	// the record probe names (a send's recipient among the app's users): Lookup.Probed and
	// Lookup.Held. An empty probe reads nothing more.
	LookupWith(ctx context.Context, token, fallback string, probe RecordKey) (Lookup, error)

	// Seed stores the configured state where it is absent: apps, tokens and open windows that the
	// store does not hold yet, and the rules and fault plans when none were ever set. It never
	// changes what is there, so a replica that starts never resets what the others counted.
	Seed(ctx context.Context, s Seed) error
	// Reset restores the configured state s in one step. For every app (app == ""): everything
	// is dropped (apps, tokens, windows, counters, records, journal, clocks) and s is seeded
	// afresh, with its rules and fault plans; fault counts start again. For one app: its
	// windows, counters, records and journal are dropped, its capability and clock set back as s
	// has them (a sandbox app: on, no offset), its configured windows reopened at s.At and its
	// configured records put back. Records under NoApp stay.
	Reset(ctx context.Context, app string, s Seed) error

	// RegisterApp stores app unless an app with the same ID exists; it returns the stored app
	// and whether it was created.
	RegisterApp(ctx context.Context, app App) (App, bool, error)
	// App returns an app by id.
	App(ctx context.Context, id string) (App, bool, error)
	// Apps lists every app, sorted by id.
	Apps(ctx context.Context) ([]App, error)
	// AppPage lists up to limit apps whose id sorts after after ("" from the first), sorted by
	// id: a page of Apps whose cost does not grow with the number of apps held.
	AppPage(ctx context.Context, after string, limit int) ([]App, error)
	// DeleteApp forgets an app that did not come from the configuration: its state, its records,
	// its journal and its tokens (a sandbox app a test made). It fails with ErrConfiguredApp for a configured
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
	// TakeReply counts one reply to a user if the window rule allows it, and says what it found.
	TakeReply(ctx context.Context, app, openID string, now time.Time, rule WindowRule) (ReplyTake, error)
	// GiveBack undoes the reply that TakeReply counted for request id (see WithRequest) in a
	// user's window, if it counted one and that window is still the one it counted in: the
	// window holds one reply fewer. It reports whether it gave one back. A send whose client was
	// told error_code 2 although its reply may have been counted (the store's answer was lost)
	// is reconciled with it.
	GiveBack(ctx context.Context, app, openID, id string) (bool, error)
	// Windows lists an app's windows, sorted by open_id.
	Windows(ctx context.Context, app string) ([]Window, error)

	// TakeCount adds one to an app's counter name for the period (a day, a second, a rule set's
	// version) if it is below limit (0: no limit), and returns the count after the call. A new
	// period starts the counter again at zero; only the current period of a name is kept.
	TakeCount(ctx context.Context, app, name, period string, limit int) (count int, ok bool, err error)
	// TakeCounts takes counters in order, each as TakeCount does, and stops at the first take that
	// ends the sequence (see Take.EndsWhenCounted); the takes after it are not made.
	TakeCounts(ctx context.Context, takes []Take) (TakesResult, error)
	// Counters returns an app's counters.
	Counters(ctx context.Context, app string) (map[string]Counter, error)

	// Rules returns the rules in force with their version.
	Rules(ctx context.Context) (RuleSet, error)
	// PutRules replaces the rules; the new set gets a new version, so its use counts (counters
	// of a period named after the version) start at zero.
	PutRules(ctx context.Context, rules []byte) (RuleSet, error)

	// Faults returns the fault plans in force with their version.
	Faults(ctx context.Context) (FaultSet, error)
	// PutFaults replaces the top-level fault plans (an app's plans stay); counts start again.
	PutFaults(ctx context.Context, global []byte) (FaultSet, error)
	// RestartFaults keeps the plans and starts their counts and draws again.
	RestartFaults(ctx context.Context) (FaultSet, error)
	// TakeFault counts one matching send for a fault plan of version v and decides, by p,
	// whether this send is faulted.
	TakeFault(ctx context.Context, v uint64, plan PlanID, p FaultPolicy) (FaultTake, error)
	// FaultCounts returns the counts of every plan of version v.
	FaultCounts(ctx context.Context, v uint64) (map[PlanID]FaultCount, error)

	// Append adds an entry to the journal of its app, dropping the oldest past the app's cap,
	// and returns the sequence number it gave the entry. Sequence numbers are unique and
	// increase by one per entry across the whole store.
	Append(ctx context.Context, e Entry) (uint64, error)
	// AppendOnce appends e as Append does, unless the newest entries of its app's journal hold
	// one with e.ID already (an Append whose answer was lost, that ran): it reports whether it
	// appended.
	AppendOnce(ctx context.Context, e Entry) (uint64, bool, error)
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

	// PutRecord stores r under app (NoApp: records of no app), replacing the record of the same
	// kind and id. It fails with ErrUnknownApp for an app the store does not hold (NoApp always
	// exists) and with ErrRecordsFull past the store's bound of records per app (new records
	// only).
	PutRecord(ctx context.Context, app string, r Record) error
	// AddRecord stores r under app as PutRecord does, unless app holds a record of the same
	// kind and id: then it changes nothing and answers false. Of concurrent adds of one kind and
	// id exactly one answers true.
	AddRecord(ctx context.Context, app string, r Record) (added bool, err error)
	// Record returns app's record of kind and id.
	Record(ctx context.Context, app, kind, id string) (Record, bool, error)
	// TakeRecord returns app's record of kind and id and deletes it in the same step: of
	// concurrent takes exactly one gets it (a one-time code, a consent used once).
	TakeRecord(ctx context.Context, app, kind, id string) (Record, bool, error)
	// Records lists app's records of kind with an id above after, sorted by id, at most limit
	// (limit <= 0: all).
	Records(ctx context.Context, app, kind, after string, limit int) ([]Record, error)

	// PutSession stores an inbox login session until its expiry.
	PutSession(ctx context.Context, id string, expires time.Time) error
	// Session reports whether a session is held and not expired at now.
	Session(ctx context.Context, id string, now time.Time) (bool, error)
	// DeleteSession ends a session.
	DeleteSession(ctx context.Context, id string) error

	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
}

// requestKey is the context key of WithRequest.
type requestKey struct{}

// WithRequest names the request (its id) that the store calls made with ctx are for: TakeReply
// keeps the id with the reply it counts, so that GiveBack finds it.
func WithRequest(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestKey{}, id)
}

// RequestOf returns the request id that WithRequest put in ctx ("" none).
func RequestOf(ctx context.Context) string {
	id, _ := ctx.Value(requestKey{}).(string)
	return id
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

// ReplyTake is what TakeReply found: whether the reply was counted, and if not, why, as a fact
// the API core words.
type ReplyTake struct {
	// OK is whether the reply may be sent (and was counted).
	OK bool
	// Refusal says why not (ReplyAllowed for OK).
	Refusal ReplyRefusal
	// Window is the user's window after the take (zero for ReplyNoWindow).
	Window Window
}

// ReplyRefusal is why TakeReply did not count a reply.
type ReplyRefusal int

const (
	// ReplyAllowed: the reply was counted.
	ReplyAllowed ReplyRefusal = iota
	// ReplyNoWindow: no user message opened a window, and the rule does not open one on a send.
	ReplyNoWindow
	// ReplyExpired: the window's duration passed, and the rule does not open a new one on a send.
	ReplyExpired
	// ReplyFull: the window holds its rule's replies already.
	ReplyFull
)

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

// Take is one counter of TakeCounts: app's counter name in period, under limit (0: no limit).
type Take struct {
	App, Name, Period string
	Limit             int
	// EndsWhenCounted makes a counted take end the sequence and a refused one go on (a rule's
	// uses: the first rule with a use left answers); otherwise a refused take ends it (a limit).
	EndsWhenCounted bool
}

// TakesResult is what TakeCounts did.
type TakesResult struct {
	// Ended is the index of the take that ended the sequence, -1 when none did.
	Ended int
	// Count is that take's count after the call (for a refused take, the count it found).
	Count int
}

// Lookup is what a send reads before it decides (Store.Lookup).
type Lookup struct {
	// Token is the token looked up, when TokenFound.
	Token      Token
	TokenFound bool
	// App is the token's app, or the fallback app for a token the store does not hold, when
	// AppFound.
	App      App
	AppFound bool
	// Rules and Faults are the versions of the rules and fault plans in force.
	Rules, Faults uint64
	// Now is the store's clock; zero when the store has none (the server's clock is the time).
	Now time.Time
	// Probed is whether LookupWith read its probe in App (an app was found and the probe was
	// not empty); Held whether App holds the probed record.
	Probed, Held bool
}

// RuleSet is the rules in force: their encoding (the API core's, which the store keeps without
// reading it) and a version that changes whenever they are replaced.
type RuleSet struct {
	Version uint64
	Rules   []byte
}

// FaultSet is the fault plans in force: the encodings of the top-level plans and of each
// configured app's (the API core's, which the store keeps without reading them), and a version
// that changes whenever the plans are replaced or restarted; counts are kept per version.
type FaultSet struct {
	Version uint64
	Global  []byte
	Apps    map[string][]byte
}

// Empty reports whether no plan is in force.
func (f FaultSet) Empty() bool { return len(f.Global) == 0 && len(f.Apps) == 0 }

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
	// Rules and Faults are the encodings of the configured rules and top-level fault plans;
	// AppFaults an app's.
	Rules     []byte
	Faults    []byte
	AppFaults map[string][]byte
	// Records are the configured records: Seed puts those absent, Reset puts them back (all of
	// them, or an app's).
	Records []SeedRecord
}

// SeedWindow is a window the configuration opens.
type SeedWindow struct {
	App, OpenID string
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
