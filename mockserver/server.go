package mockserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/internal/spec"
)

// MaxBodyBytes is the largest request body the fake reads (1 MiB); a larger one answers errno 3001.
const MaxBodyBytes = 1 << 20

// Options configure a Server. The zero value serves the embedded default configuration on the
// system clock with an in-memory store.
type Options struct {
	// Config is the configuration; nil means config.Default().
	Config *config.Config
	// Store keeps the state; nil means NewMemoryStore(Config.Policy.JournalCap).
	Store Store
	// Now is the server clock; nil means time.Now. Each app's clock is Now plus its offset.
	Now func() time.Time
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
	// AdminToken, when set, is the bearer token the admin API requires.
	AdminToken string
	// Version is reported by the admin health endpoint.
	Version string
	// CACert is the PEM certificate of the CA behind the fake's HTTPS, served at GET /__admin/ca.
	CACert []byte
}

// Server is the fake Baidu service: an http.Handler for the API paths of openapi.yaml and the admin
// API under /__admin/.
type Server struct {
	spec    *spec.Spec
	cfg     atomic.Pointer[config.Config]
	rules   atomic.Pointer[ruleSet]
	store   Store
	now     func() time.Time
	log     *slog.Logger
	admin   http.Handler
	adminTk string
	version string
	started time.Time

	idPrefix string
	idSeq    atomic.Uint64
	ruleGen  atomic.Uint64 // generations of rule sets (rules.go)

	apps     map[string]config.App // configured apps by id
	byClient map[string]config.App // configured apps by client_id

	bodies map[answerKey][]byte // pre-rendered envelopes

	hub hub // live journal subscribers

	metrics *metrics // Prometheus metrics at /metrics (metrics.go)

	faults faultEngine // injected network failures (fault.go)
	caPEM  []byte      // Options.CACert
}

type answerKey struct {
	layer smartappmock.Layer
	code  int
}

// New checks the configuration against the embedded openapi.yaml, registers the configured apps,
// their tokens and open windows in the store, and returns a ready Server.
func New(opts Options) (*Server, error) {
	sp, err := spec.Load(smartappmock.OpenAPI())
	if err != nil {
		return nil, err
	}
	cfg := opts.Config
	if cfg == nil {
		cfg = config.Default()
	}
	cfg.Normalize()
	s := &Server{
		spec:     sp,
		store:    opts.Store,
		now:      opts.Now,
		log:      opts.Logger,
		adminTk:  opts.AdminToken,
		version:  opts.Version,
		caPEM:    opts.CACert,
		apps:     map[string]config.App{},
		byClient: map[string]config.App{},
		bodies:   map[answerKey][]byte{},
	}
	if s.store == nil {
		s.store = NewMemoryStore(cfg.Policy.JournalCap)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.version == "" {
		s.version = "dev"
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	s.idPrefix = hex.EncodeToString(rnd[:])
	s.started = s.now()
	cat := sp.Catalogue()
	for _, g := range cat.Gateway {
		s.bodies[answerKey{smartappmock.LayerGateway, g.Code}] = mustJSON(smartappmock.GatewayEnvelope{ErrorCode: g.Code, ErrorMsg: g.Message})
	}
	for _, b := range cat.Business {
		s.bodies[answerKey{smartappmock.LayerBusiness, b.Errno}] = mustJSON(smartappmock.BusinessEnvelope{Errno: b.Errno, Msg: b.Message, Data: map[string]any{}})
	}
	if err := s.checkRuleCodes(cfg.Rules); err != nil {
		return nil, err
	}
	s.cfg.Store(cfg)
	s.rules.Store(s.newRuleSet(cfg.Rules, false))
	ctx := context.Background()
	for _, a := range cfg.Apps {
		s.apps[a.ID] = a
		s.byClient[a.ClientID] = a
		if _, _, err := s.store.RegisterApp(ctx, s.baseState(a)); err != nil {
			return nil, err
		}
		for _, t := range a.Tokens {
			if err := s.store.PutToken(ctx, Token{Value: t, App: a.ID, Issued: s.started}); err != nil {
				return nil, err
			}
		}
		for _, id := range a.UserMessages {
			if err := s.store.OpenWindow(ctx, a.ID, id, s.started); err != nil {
				return nil, err
			}
		}
	}
	s.admin = s.adminRouter()
	s.metrics = newMetrics(s.store)
	return s, nil
}

func (s *Server) baseState(a config.App) AppState {
	return AppState{ID: a.ID, ClientID: a.ClientID, ClientSecret: a.ClientSecret, Source: "config", Capability: a.CapabilityOn()}
}

// Config returns the configuration in force (rules as last replaced).
func (s *Server) Config() *config.Config {
	c := *s.cfg.Load()
	c.Rules = s.rules.Load().configRules()
	return &c
}

// Store returns the server's store.
func (s *Server) Store() Store { return s.store }

// Spec returns the loaded openapi.yaml.
func (s *Server) Spec() *spec.Spec { return s.spec }

// ServeHTTP serves /metrics, routes /__admin/ to the admin API, and everything else through
// openapi.yaml (the proxy for openapi.baidu.com is a separate handler: see NewProxy).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == MetricsPath {
		s.metrics.handler.ServeHTTP(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/__admin") {
		s.admin.ServeHTTP(w, r)
		return
	}
	op, known := s.spec.FindOperation(r)
	switch op {
	case spec.OpSend:
		s.serveSend(w, r)
	case spec.OpTokenByQuery, spec.OpTokenByForm:
		s.serveToken(w, r)
	default:
		reason := fmt.Sprintf("%s is not an API of this service", r.URL.Path)
		if known {
			reason = fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path)
		}
		s.serveUnknown(w, r, reason)
	}
}

// appNow returns the app's clock.
func (s *Server) appNow(now time.Time, app AppState) time.Time { return now.Add(app.ClockOffset) }

// newID returns a request id unique within this process.
func (s *Server) newID() string {
	return s.idPrefix + "-" + strconv.FormatUint(s.idSeq.Add(1), 10)
}

// writeEnvelope writes an HTTP 200 envelope with the fake's outcome, reason and id headers.
func (s *Server) writeEnvelope(w http.ResponseWriter, layer smartappmock.Layer, code int, reason, id string) {
	// The keys are canonical already: assigning skips Header.Set's canonicalization (a profile hot spot).
	h := w.Header()
	// One backing array for the five values; each slice is capped so an Add elsewhere copies.
	vals := make([]string, 5)
	vals[0], vals[1], vals[2] = "application/json", string(layer)+" "+strconv.Itoa(code), id
	h["Content-Type"], h[smartappmock.HeaderOutcome], h[smartappmock.HeaderRequestID] = vals[0:1:1], vals[1:2:2], vals[2:3:3]
	if reason != "" {
		vals[3] = headerSafe(reason)
		h[smartappmock.HeaderReason] = vals[3:4:4]
	}
	body, ok := s.bodies[answerKey{layer, code}]
	if !ok {
		// A code outside the catalogue (a rule may name one): keep the envelope shape.
		if layer == smartappmock.LayerGateway {
			body = mustJSON(smartappmock.GatewayEnvelope{ErrorCode: code, ErrorMsg: "Unknown error"})
		} else {
			body = mustJSON(smartappmock.BusinessEnvelope{Errno: code, Msg: "error", Data: map[string]any{}})
		}
	}
	vals[4] = strconv.Itoa(len(body))
	h["Content-Length"] = vals[4:5:5]
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (s *Server) serveUnknown(w http.ResponseWriter, r *http.Request, reason string) {
	start := s.now()
	id := s.newID()
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, MaxBodyBytes))
	s.record(r, Entry{
		ID: id, Time: start, AppTime: start, Endpoint: "unknown", Method: r.Method, Path: r.URL.Path,
		ContentType: r.Header.Get("Content-Type"), Layer: smartappmock.LayerGateway,
		Code: smartappmock.CodeUnsupportedMethod, Status: http.StatusOK, Reason: reason, Params: []Param{},
	}, start)
	s.writeEnvelope(w, smartappmock.LayerGateway, smartappmock.CodeUnsupportedMethod, reason, id)
}

// record finishes an entry, appends it to the journal and logs it. Handlers call it before they
// write the answer, so the journal never lags behind what a client has seen; LatencyMicros is the
// time the fake took to decide.
func (s *Server) record(r *http.Request, e Entry, start time.Time) {
	e.LatencyMicros = s.now().Sub(start).Microseconds()
	seq, err := s.store.Append(r.Context(), e)
	if err != nil {
		s.log.Error("journal append failed", "id", e.ID, "err", err)
	}
	e.Seq = seq
	s.hub.publish(e)
	s.metrics.observe(&e)
	s.logRequest(r.Context(), &e)
}

// redactToken keeps a token's type prefix and a short hash: enough to tell tokens apart in the
// journal, useless to an attacker.
func redactToken(t string) string {
	if t == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(t))
	prefix := t
	if i := strings.IndexByte(t, '.'); i > 0 && i <= 4 {
		prefix = t[:i+1]
	} else if len(prefix) > 4 {
		prefix = prefix[:4]
	}
	return prefix + "…#" + hex.EncodeToString(sum[:4])
}

// headerSafe makes a reason fit an HTTP header: printable ASCII, other runes escaped, at most 1 KiB.
func headerSafe(s string) string {
	if len(s) <= 1024 && isPrintableASCII(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		if b.Len() > 1024 {
			b.WriteString("...")
			break
		}
	}
	return b.String()
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
