// Package redisstore is a store.Store on Redis, so any number of servers (replicas) share one
// state. Each primitive is one native command or one small Lua script run with EVALSHA
// (internal/script), so it is one atomic step, exact across replicas: a reply taken in a window,
// counters taken under their limits (TakeCounts: a sequence of takes in one script), a fault
// plan's count, a journal entry with its sequence number. The scripts decide nothing of Baidu's:
// they answer facts (a status, a count, a window's times as integers) and the Go side builds the
// store's types; the order of a send's checks, its codes and reasons are the API core's
// (mockserver). Lookup reads a send's token, its app and the plans' versions in one read-only
// script, with Redis's clock (TIME), so the replicas' clocks never matter. Rules and fault plans
// are kept as the bytes the core gives, with a version number, and never cached by the client;
// the journal is a capped stream per app and the live feed a capped stream of every app, read with
// XREAD BLOCK from a cursor. The commands of concurrent callers share round trips
// (internal/batch): a runner writes every command queued at that moment in one pipeline and
// answers each caller its reply, so a plain send (Lookup, TakeReply, Append) costs three round
// trips shared with the other sends in flight.
//
// # Keys
//
// Every key starts with Options.Prefix (P, "smartappmock:" by default). An app's keys share the
// hash tag of its id, P+"app:{<id>}:<kind>" (the app-less bucket store.NoApp is
// P+"noapp:{noapp}:<kind>"):
//
//	app   hash    the app: id, client_id, secret, source, cap (0|1), offset (nanoseconds)
//	meta  hash    reg (1: in the app registry), appended (entries ever appended to the journal)
//	win   hash    open_id -> "<unix sec> <nsec> <replies> <user message 0|1>"
//	cnt   hash    counter name -> "<count> <period>"
//	jrn   stream  the journal: id "<seq>-0", field e = the entry as JSON; MAXLEN journal cap
//	rec   hash    "<kind>:<id>" -> a record's data (store.Record); at most MaxRecordsPerApp
//
// The global keys have tags of their own:
//
//	{global}:seq     string  the last sequence number given (never reset)
//	{global}:feed    stream  the live feed, every app: id "<seq>-0"; MAXLEN ~ feed backlog
//	{global}:apps    zset    the app registry: every app id that may have keys (score 0:
//	                         read in id order, a page at a time, with ZRANGEBYLEX)
//	{global}:idle    zset    the apps that are not configured, scored by the sequence number
//	                         of their newest journal entry; past MaxApps the oldest are dropped
//	{global}:gone    zset    the apps a reset of every app left to clean (CleanApps drops
//	                         their keys a chunk at a time)
//	{tokens}:all     hash    token value -> the token as JSON
//	{tokens}:issued  list    issued (expiring) tokens, oldest first, for the token cap
//	{plans}:def      hash    set (1: rules and plans were set), rules, rules_v, fglobal, fapps,
//	                         faults_v: the encodings as given (fapps: a JSON object of the apps'
//	                         encodings in base64) and their versions
//	{plans}:ver      string  the last plan version given (never reset)
//	{plans}:fc       hash    "<index>:<app>" -> "<matched> <injected>" of the current fault version
//	session:<id>     string  an inbox session's expiry (unix nanoseconds), with PXAT
//	{push}:cfg, {push}:msgid, {push}:outbox, {push}:result:<id>   the push configurations, the
//	                 MsgId counter, the outbox stream and finished deliveries' results (push.go,
//	                 outbox.go)
//
// # Redis Cluster
//
// Open connects to one Redis (standalone, or the primary of a replicated set). The key layout is
// made for a Cluster too: the one-app scripts (TakeReply, TakeCount, TakeFault, OpenWindow,
// RegisterApp, UpdateApp, one app's Reset, tokens) touch the keys of one slot each (a test pins
// it), and registering a new app is a plain two-command pipeline. But Append (the global sequence
// and feed with the app's journal), TakeCounts (the registry and the counters of the takes'
// apps: a rule's uses are app-less, a limit is the app's), Seed and Reset of every app touch
// several slots in one script, which a Cluster refuses (CROSSSLOT), and Lookup and Reset of every
// app compute key names inside the script (Lookup learns the app from the token it reads). That
// is the limit of this store: a Cluster needs those split into per-slot steps (no longer one
// atomic step, nor one round trip) and a redis.ClusterClient.
//
// # Connections
//
// A Store has two connection pools: one for the operations (its size from the URL's pool_size,
// go-redis's default otherwise) and one for the waiting Feed calls (Options.FeedConns), so
// readers of the live feed, which hold a connection while they wait, never delay an operation.
//
// # Failures
//
// When Redis does not answer, every operation returns an error (wrapping go-redis's): nothing is
// kept in the process instead, and no command is retried, since a script whose answer was lost
// may have run. A call returns at its context's deadline even when its command was sent (the
// batcher lets it go: internal/batch's ErrOutcomeUnknown); TakeReply and Append carry that
// deadline on Redis's clock (learned from Lookup's TIME) and count nothing when Redis runs them
// later, and TakeReply keeps the request id (store.WithRequest) for GiveBack. The connection pool dials again on the next call, so the same Store works again
// as soon as Redis does; scripts that Redis no longer holds are sent again (EVALSHA, then EVAL).
// A Redis that restarts without persistence has lost the state: sequence numbers start again
// at 1 (Feed then reads from the start for a cursor above the head), windows and counters are
// empty, and Seed must run again to restore the configured apps and tokens.
//
// # Memory
//
// The journal (per app), the feed, the issued tokens and each app's windows are capped (see
// Options), and so are the apps that are not configured (MaxApps): past it, Append drops the
// least recently used with their keys, as the in-memory store evicts them. Run Redis with maxmemory-policy noeviction: evicting a key such as
// the sequence counter would break the journal, while noeviction turns a full Redis into errors.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/redisstore/internal/batch"
)

// Options tune a Store. The zero value takes the defaults.
type Options struct {
	// Prefix starts every key ("smartappmock:" when empty). It must not contain '{' or '}'.
	// Stores with different prefixes on one Redis do not see each other.
	Prefix string
	// JournalCap is how many entries an app's journal keeps (1000 when <= 0); the stream is
	// trimmed exactly.
	JournalCap int
	// FeedBacklog is how many of the newest entries the live feed keeps at least (4096 when
	// <= 0); it is trimmed approximately (MAXLEN ~), which is cheaper than exactly.
	FeedBacklog int
	// MaxTokens is how many issued tokens the store keeps (100,000 when <= 0); past it, the
	// oldest are forgotten. Configured tokens (no expiry) are never dropped.
	MaxTokens int
	// MaxWindowsPerApp is how many windows an app keeps (10,000 when <= 0); past it, expired
	// windows and then the oldest are dropped.
	MaxWindowsPerApp int
	// MaxRecordsPerApp is how many records an app keeps (100,000 when <= 0); past it, a new
	// record is refused (store.ErrRecordsFull).
	MaxRecordsPerApp int
	// FeedPoll bounds one XREAD BLOCK of Feed (500ms when <= 0): Feed notices the end of a
	// context without a deadline within it.
	FeedPoll time.Duration
	// MaxApps is how many apps that are not configured (sandbox apps) the store keeps (4096 when
	// <= 0, as the in-memory store); past it, the least recently used are dropped with their
	// state, so any number of distinct tokens leaves Redis's memory bounded.
	MaxApps int
	// FeedConns is how many connections the waiting Feed calls may hold (128 when <= 0). They
	// have a pool of their own, so readers of the live feed never make an operation wait for a
	// connection; a Feed call past it waits for one of them.
	FeedConns int
}

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = "smartappmock:"
	}
	if o.JournalCap <= 0 {
		o.JournalCap = 1000
	}
	if o.FeedBacklog <= 0 {
		o.FeedBacklog = 4096
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = 100_000
	}
	if o.MaxWindowsPerApp <= 0 {
		o.MaxWindowsPerApp = 10_000
	}
	if o.MaxRecordsPerApp <= 0 {
		o.MaxRecordsPerApp = 100_000
	}
	if o.MaxApps <= 0 {
		o.MaxApps = 4096
	}
	if o.FeedPoll <= 0 {
		o.FeedPoll = 500 * time.Millisecond
	}
	if o.FeedConns <= 0 {
		o.FeedConns = 128
	}
	return o
}

// Store is a store.Store on Redis. It is safe for concurrent use; Close releases its
// connections.
type Store struct {
	rdb  *redis.Client  // every operation but Feed
	feed *redis.Client  // Feed's blocking reads: a pool of their own
	pipe *batch.Batcher // the primitives of a send (and token and app reads), pipelined with concurrent calls
	opts Options
	name string       // the URL without its password, for String
	skew atomic.Int64 // Redis's clock minus this process's, in milliseconds (0: not known)

	// global keys
	seq, feedKey, registry, idle, gone, tokens, issued, plans, version, counts string

	cursors outboxCursors // where each consumer's XAUTOCLAIM stopped (outbox.go)
}

var _ store.Store = (*Store)(nil)

// The Redis store has a clock of its own (TIME), which AppNow gives the steps outside a send.
var _ store.Clock = (*Store)(nil)

// Open connects to the Redis at rawURL and returns a store once Redis answers a PING. Commands
// are never retried (a lost answer is an error, never a reply counted twice), and the deadline
// of an operation's context bounds its wait for Redis. The URL is
// redis://[user:password@]host:port/db, unix:///path/to/redis.sock or
// unix:///path/to/redis.sock?db=N (a password as unix://user:password@/path). The password
// never appears in an error or in String.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if strings.ContainsAny(opts.Prefix, "{}") {
		return nil, fmt.Errorf("redisstore: the key prefix %q contains a brace (it would change the hash tags)", opts.Prefix)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, password and all
		}
		return nil, fmt.Errorf("redisstore: the store URL does not parse: %v", err)
	}
	name := u.Redacted()
	ro, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %s: %s", name, scrub(err.Error(), u))
	}
	ro.DisableIdentity = true // no CLIENT SETINFO on every connection
	ro.Protocol = 2           // RESP2: go-redis then skips its per-reply check for RESP3 push notifications
	// No command retries: a script whose answer was lost may have run, and running it again
	// would count a reply twice. The caller gets the error instead.
	ro.MaxRetries = -1
	// A dead Redis is told quickly: two dial attempts, not five.
	ro.DialerRetries, ro.DialerRetryTimeout = 2, 50*time.Millisecond
	// The caller's deadline bounds every read, blocking XREADs too.
	ro.ContextTimeoutEnabled = true
	fo := *ro
	fo.PoolSize = opts.FeedConns
	fo.PoolTimeout = opts.FeedPoll + 10*time.Second
	s := newStore(redis.NewClient(ro), redis.NewClient(&fo), opts, name)
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// scrub removes u's password from msg.
func scrub(msg string, u *url.URL) string {
	if pw, ok := u.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return msg
}

func newStore(rdb, feed *redis.Client, opts Options, name string) *Store {
	p := opts.Prefix
	return &Store{
		rdb: rdb, feed: feed, opts: opts, name: name, pipe: batch.New(rdb),
		seq: p + "{global}:seq", feedKey: p + "{global}:feed", registry: p + "{global}:apps", idle: p + "{global}:idle", gone: p + "{global}:gone",
		tokens: p + "{tokens}:all", issued: p + "{tokens}:issued",
		plans: p + "{plans}:def", version: p + "{plans}:ver", counts: p + "{plans}:fc",
	}
}

// String names the store by its URL without the password.
func (s *Store) String() string { return "redis store " + s.name }

// AddHook adds a go-redis hook to the connections of every operation but Feed: to count round
// trips, say, or trace commands.
func (s *Store) AddHook(h redis.Hook) { s.rdb.AddHook(h) }

// Close closes the connections to Redis.
func (s *Store) Close() error {
	s.pipe.Close()
	return errors.Join(s.rdb.Close(), s.feed.Close())
}

// Ping implements store.Store: it reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisstore: %s does not answer: %w", s.name, err)
	}
	return nil
}

// akey names the key of kind of an app (see the package doc); Lua's akey is the same.
func (s *Store) akey(app, kind string) string {
	if app == store.NoApp {
		return s.opts.Prefix + "noapp:{noapp}:" + kind
	}
	return s.opts.Prefix + "app:{" + app + "}:" + kind
}

// errUnregistered is what a script answers before it writes the keys of an app that is not in
// the registry.
const errUnregistered = "UNREGISTERED"

// runApp runs a script that writes app's keys: when the script answers that the app is not
// registered, it registers the app and runs the script again. Registration happens before any
// key of the app is written, so Reset always finds them.
func (s *Store) runApp(ctx context.Context, app string, sc *redis.Script, keys []string, args ...any) (any, error) {
	for range 4 {
		v, err := s.run(ctx, sc, keys, args...)
		var rerr redis.Error
		// Redis may put "ERR " in front of the script's error.
		if err == nil || !errors.As(err, &rerr) || !strings.HasSuffix(rerr.Error(), errUnregistered) {
			return v, err
		}
		if err := s.register(ctx, app); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("the app registry keeps being reset")
}

// run runs sc in the next shared pipeline (internal/batch): concurrent calls share round trips.
func (s *Store) run(ctx context.Context, sc *redis.Script, keys []string, args ...any) (any, error) {
	return s.pipe.Run(ctx, sc, keys, args...).Result()
}

// register adds app to the registry, then marks its meta hash: the order matters (a crash
// between the two leaves a registered app that registers again, never an unregistered one).
func (s *Store) register(ctx context.Context, app string) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, s.registry, redis.Z{Member: app})
		p.HSet(ctx, s.akey(app, "meta"), "reg", "1")
		return nil
	})
	return err
}

// learnSkew keeps how far Redis's clock (read at t) is ahead of this process's, to the
// millisecond: until turns a context's deadline into Redis's time with it.
func (s *Store) learnSkew(t time.Time) {
	d := t.UnixMilli() - time.Now().UnixMilli()
	if old := s.skew.Load(); old == 0 || old-d > 1 || d-old > 1 {
		if d == 0 {
			d = 1 // 0 means unknown
		}
		s.skew.Store(d)
	}
}

// until is the Redis time, in milliseconds, after which a step made with ctx must not count:
// ctx's deadline on Redis's clock ("0": no deadline, or the clocks' skew is not known yet).
// A step that Redis runs later, its caller having stopped waiting, then does nothing.
func (s *Store) until(ctx context.Context) string {
	dl, ok := ctx.Deadline()
	skew := s.skew.Load()
	if !ok || skew == 0 {
		return "0"
	}
	return strconv.FormatInt(dl.UnixMilli()+skew, 10)
}

// wrap names the operation in an error, marked store.ErrUnavailable when Redis did not answer
// (a connection that failed or ended, a deadline, no connection free), not when it answered an
// error of its own.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if unanswered(err) && !errors.Is(err, store.ErrUnavailable) {
		return fmt.Errorf("redisstore: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

// unanswered reports whether err says that Redis gave no answer.
func unanswered(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout)
}

// unixTime splits t for Lua: Unix seconds and nanoseconds.
func unixTime(t time.Time) (string, string) {
	return strconv.FormatInt(t.Unix(), 10), strconv.Itoa(t.Nanosecond())
}

// toInt reads an integer that a script answered.
func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

// toStr reads a string that a script answered.
func toStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return ""
}
