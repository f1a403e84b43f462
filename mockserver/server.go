package mockserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/internal/spec"
	"github.com/smartappmock/smartappmock/mockserver/pushtarget"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/guard"
	"github.com/smartappmock/smartappmock/store/memstore"
)

// MaxBodyBytes is the largest request body the fake reads (1 MiB); a larger one answers errno 3001.
const MaxBodyBytes = 1 << 20

// Options configure a Server. The zero value serves the embedded default configuration on the
// system clock with an in-memory store.
type Options struct {
	// Config is the configuration; nil means config.Default().
	Config *config.Config
	// Store keeps the state; nil means memstore.New(Config.Policy.JournalCap). Several servers
	// may share one store: they then agree on every window, limit, rule and fault plan.
	Store store.Store
	// Now is the server clock; nil means time.Now. Each app's clock is Now plus its offset, or,
	// on a store with a clock of its own (store.Clock: Redis), the store's clock plus the offset.
	Now func() time.Time
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
	// Version is what the server reports as its version ("dev" when empty).
	Version string
	// Observe, when set, is called with every request's journal entry right after it was
	// recorded and before the answer leaves (metrics count there). It must be quick, and must not
	// keep the pointer (the entry is reused): copy what it needs.
	Observe func(*store.Entry)
	// FaultHold is how long a timeout fault holds a request (0: config.MaxFaultHold).
	FaultHold time.Duration
	// PushAllow limits where the message push may go (its handshake and deliveries); nil means
	// pushtarget.Default(): loopback and private addresses.
	PushAllow *pushtarget.Allow
	// StoreDeadline bounds every call to a store that may wait (Redis): 0 means
	// guard.DefaultDeadline (1s). While the store does not answer, a breaker fails calls at once
	// (sends and token requests answer error_code 2, the admin API 503): store/guard.
	StoreDeadline time.Duration
}

// Server is the API core of the fake Baidu service: an http.Handler for the paths of openapi.yaml
// (the send endpoint and the token endpoint; anything else answers a gateway error). The admin API,
// the inbox, the proxy and the metrics are separate handlers that wrap it. A Server holds no
// mutable state of its own: everything lives behind its Store.
type Server struct {
	spec    *spec.Spec
	cfg     *config.Config
	store   store.Store
	breaker *guard.Breaker
	remote  bool // the store is outside the process (guarded): its answers may be lost
	now     func() time.Time
	log     *slog.Logger
	version string
	started time.Time
	observe func(*store.Entry)

	idPrefix string
	idSeq    atomic.Uint64

	apps     map[string]config.App // configured apps by id
	appIndex map[string]int        // index of a configured app in the file (fault labels)
	byClient map[string]config.App // configured apps by client_id
	seed     store.Seed            // the configured state, for Seed and Reset

	// What every send's decision reads, built once: the limits of the configured apps (merged
	// with the policy) and of any other app (the policy's), the window rule; and the rules and
	// fault plans in force, decoded once per version.
	limits        map[string]config.Limits
	defaultLimits config.Limits
	window        store.WindowRule
	plans         plansCache

	bodies map[answerKey]envelope // pre-rendered envelopes

	redacted redactions // tokens sent lately, redacted (hotpath.go)
	ledger   ledger     // sends whose store answer was lost, to reconcile (reconcile.go)

	release     chan struct{} // closed by ReleaseFaults
	releaseOnce sync.Once
	faultHold   time.Duration     // how long a timeout fault holds (tests shorten it)
	pushAllow   *pushtarget.Allow // where pushes may go: pushallow.go

	delivery atomic.Pointer[Delivery] // the outbox's delivery loop, once StartDelivery ran (outbox.go)
}

type answerKey struct {
	layer smartappmock.Layer
	code  int
}

// New checks the configuration against the embedded openapi.yaml, seeds the store with the
// configured apps, tokens, windows, rules and fault plans (where the store does not hold them
// yet), and returns a ready Server.
func New(opts Options) (*Server, error) {
	sp, err := spec.Embedded()
	if err != nil {
		return nil, err
	}
	cfg := opts.Config
	if cfg == nil {
		cfg = config.Default()
	}
	cfg.Normalize()
	s := &Server{
		spec:      sp,
		cfg:       cfg,
		store:     opts.Store,
		now:       opts.Now,
		log:       opts.Logger,
		version:   opts.Version,
		observe:   opts.Observe,
		faultHold: opts.FaultHold,
		apps:      map[string]config.App{},
		appIndex:  map[string]int{},
		byClient:  map[string]config.App{},
		bodies:    map[answerKey]envelope{},
		release:   make(chan struct{}),
	}
	if s.store == nil {
		s.store = memstore.New(cfg.Policy.JournalCap)
	}
	s.store, s.breaker = guard.New(s.store, guard.Options{Deadline: opts.StoreDeadline})
	s.remote = guard.Unwrap(s.store) != s.store
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.version == "" {
		s.version = "dev"
	}
	if s.pushAllow = opts.PushAllow; s.pushAllow == nil {
		s.pushAllow = pushtarget.Default()
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	s.idPrefix = hex.EncodeToString(rnd[:])
	s.started = s.now()
	cat := sp.Catalogue()
	for _, g := range cat.Gateway {
		d := gateway(g.Code, "")
		s.bodies[answerKey{d.Layer, d.Code}] = newEnvelope(d, mustJSON(smartappmock.GatewayEnvelope{ErrorCode: g.Code, ErrorMsg: g.Message}))
	}
	for _, b := range cat.Business {
		d := business(b.Errno, "")
		env := smartappmock.BusinessEnvelope{Errno: b.Errno, Msg: b.Message, Data: map[string]any{}}
		if b.Errno == smartappmock.ErrnoOK {
			env.Data = nil // {"errno":0,"msg":"success"}, as Baidu's documentation shows it
		}
		s.bodies[answerKey{d.Layer, d.Code}] = newEnvelope(d, mustJSON(env))
	}
	if err := s.CheckRules(cfg.Rules); err != nil {
		return nil, err
	}
	if err := s.checkConfiguredPushTargets(); err != nil {
		return nil, err
	}
	s.limits, s.defaultLimits = map[string]config.Limits{}, cfg.AppLimits(config.App{})
	for i, a := range cfg.Apps {
		s.apps[a.ID] = a
		s.appIndex[a.ID] = i
		s.byClient[a.ClientID] = a
		s.limits[a.ID] = cfg.AppLimits(a)
	}
	win := cfg.Policy.Window
	s.window = store.WindowRule{Duration: time.Duration(win.Duration), MaxReplies: win.MaxReplies, OpenOnFirst: win.Mode == config.WindowOpenOnFirstSend}
	s.seed = s.configuredState()
	s.seed.At = s.started
	if err := s.store.Seed(context.Background(), s.seed); err != nil {
		return nil, fmt.Errorf("seeding the store: %w", err)
	}
	return s, nil
}

// seedAgain seeds the configured state into a store that lost it (Seed adds only what is
// absent, so a replica that does it once too often changes nothing), and logs it.
func (s *Server) seedAgain(ctx context.Context) error {
	if err := s.store.Seed(ctx, s.Seed(s.now())); err != nil {
		return err
	}
	s.log.Warn("the store held no configured state (restarted without its data?); configured state seeded again")
	return nil
}

// Seeded makes sure the store holds the configured state: a store that lost it (a Redis that
// restarted empty) is seeded again. It fails while the store does not answer, or when seeding
// fails: the replica is not ready then (GET /__admin/ready).
func (s *Server) Seeded(ctx context.Context) error {
	lk, err := s.store.Lookup(ctx, "", "")
	if err != nil {
		return err
	}
	if lk.Rules != 0 {
		return nil
	}
	if err := s.seedAgain(ctx); err != nil {
		return fmt.Errorf("the store lost the configured state, and seeding it again failed: %w", err)
	}
	return nil
}

// configuredState is the state the configuration describes, without its time.
func (s *Server) configuredState() store.Seed {
	var sd store.Seed
	sd.Rules = encodePlans(s.cfg.Rules)
	sd.Faults = encodePlans(s.cfg.Faults)
	for _, a := range s.cfg.Apps {
		sd.Apps = append(sd.Apps, store.App{ID: a.ID, ClientID: a.ClientID, ClientSecret: a.ClientSecret, Source: "config", Capability: a.CapabilityOn()})
		for _, t := range a.Tokens {
			sd.Tokens = append(sd.Tokens, store.Token{Value: t, App: a.ID, Issued: s.started})
		}
		for _, id := range a.UserMessages {
			sd.Windows = append(sd.Windows, store.SeedWindow{App: a.ID, OpenID: id})
		}
		sd.Records = append(sd.Records, seedSubscriptions(a, s.started)...)
		if len(a.Faults) > 0 {
			if sd.AppFaults == nil {
				sd.AppFaults = map[string][]byte{}
			}
			sd.AppFaults[a.ID] = encodePlans(a.Faults)
		}
	}
	sd.Records = append(sd.Records, s.seedUsers()...) // users.go
	return sd
}

// Seed returns the configured state with its windows opening at at: what a reset restores.
func (s *Server) Seed(at time.Time) store.Seed {
	sd := s.seed
	sd.At = at
	return sd
}

// Config returns the configuration the server was built with (the rules and fault plans in force
// are in the Store).
func (s *Server) Config() *config.Config { return s.cfg }

// ConfiguredApp returns the configuration of an app, when it is a configured one.
func (s *Server) ConfiguredApp(id string) (config.App, bool) {
	a, ok := s.apps[id]
	return a, ok
}

// AppFaultsWhere names where an app's fault plans are in the file ("apps[1].faults").
func (s *Server) AppFaultsWhere(app string) string {
	return "apps[" + strconv.Itoa(s.appIndex[app]) + "].faults"
}

// Store returns the server's store: every call through it has a deadline and a breaker.
func (s *Server) Store() store.Store { return s.store }

// StoreBreaker returns the breaker of the server's store: open while the store does not answer.
func (s *Server) StoreBreaker() *guard.Breaker { return s.breaker }

// Spec returns the loaded openapi.yaml.
func (s *Server) Spec() *spec.Spec { return s.spec }

// Now returns the server clock.
func (s *Server) Now() time.Time { return s.now() }

// Started returns when the server was built, on its clock.
func (s *Server) Started() time.Time { return s.started }

// Version returns the version the server reports.
func (s *Server) Version() string { return s.version }

// Logger returns the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// ReleaseFaults ends every request held by a fault (timeout, drip, latency) at once, and makes
// later ones end without waiting. Call it before a graceful shutdown, which would otherwise wait
// for them; other in-flight requests are not disturbed.
func (s *Server) ReleaseFaults() {
	s.releaseOnce.Do(func() { close(s.release) })
}

// ServeHTTP serves the API paths of openapi.yaml: the spec's route finder decides which exist.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, known := s.spec.FindOperation(r)
	switch op {
	case spec.OpSend:
		s.serveSend(w, r, "send")
	case spec.OpSendByTP:
		s.serveSend(w, r, "sendbytp")
	case spec.OpTPToken:
		s.serveTPToken(w, r)
	case spec.OpPreAuthCode:
		s.servePreAuthCode(w, r)
	case spec.OpTPOAuth:
		s.serveTPOAuth(w, r)
	case spec.OpGetMsg:
		s.servePushLog(w, r) // tppush.go
	case spec.OpTokenByQuery, spec.OpTokenByForm:
		s.serveToken(w, r)
	default:
		if s.serveCallOp(w, r, op) { // call.go: every endpoint beside the send
			return
		}
		reason := fmt.Sprintf("%s is not an API of this service", r.URL.Path)
		if known {
			reason = fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path)
		}
		s.serveUnknown(w, r, reason)
	}
}

// newID returns a request id unique within this process (its prefix is random per process).
func (s *Server) newID() string {
	var buf [48]byte // one allocation: the string
	b := append(buf[:0], s.idPrefix...)
	b = append(b, '-')
	return string(strconv.AppendUint(b, s.idSeq.Add(1), 10))
}

func (s *Server) serveUnknown(w http.ResponseWriter, r *http.Request, reason string) {
	start := s.now()
	id := s.newID()
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, MaxBodyBytes))
	d := Decision{Layer: smartappmock.LayerGateway, Code: smartappmock.CodeUnsupportedMethod, Reason: reason}
	s.record(r.Context(), store.Entry{
		ID: id, Time: start, AppTime: start, Endpoint: "unknown", Method: journalMethod(r.Method), Path: journalPath(r.URL.Path),
		ContentType: journalContentType(r.Header.Get("Content-Type")), Layer: d.Layer, Code: d.Code,
		Status: http.StatusOK, Reason: reason, Params: []store.Param{},
	}, start)
	s.writeEnvelope(w, d, id)
}

// record finishes an entry, appends it to the journal, hands it to the observer and logs it.
// Handlers call it before they write the answer, so the journal never lags behind what a client
// has seen; LatencyMicros is the time the fake took to decide.
func (s *Server) record(ctx context.Context, e store.Entry, start time.Time) store.Entry {
	s.recordEntry(ctx, &e, start)
	return e
}

// recordEntry is record on an entry the caller holds (a send's pooled entry).
func (s *Server) recordEntry(ctx context.Context, e *store.Entry, start time.Time) {
	e.LatencyMicros = s.now().Sub(start).Microseconds()
	if len(e.Reason) > maxJournalReason {
		e.Reason = clipTo(e.Reason, maxJournalReason)
	}
	seq, err := s.store.Append(ctx, *e)
	if err != nil {
		s.log.Error("journal append failed", "id", e.ID, "err", err)
		s.noteLostEntry(e, err) // a success is journaled once the store answers: reconcile.go
	}
	e.Seq = seq
	s.recorded(ctx, e)
}

// recorded hands a journaled entry to the observer and logs it.
func (s *Server) recorded(ctx context.Context, e *store.Entry) {
	if s.observe != nil {
		s.observe(e)
	}
	s.logRequest(ctx, e)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
