// Package admin is the admin API of the fake under /__admin/: health, configuration, apps and
// their windows and clocks, rules, fault plans, the journal, resets and the CA certificate, behind
// an optional bearer token, with the inbox's login sessions. It reads and changes state only
// through the API core's Store, so every replica on a shared store sees the same answers. Client
// is its typed Go client.
//
// # Routes
//
//	GET  /__admin/health                   liveness (open even with an admin token)
//	GET  /__admin/ready                    readiness: 200 when the store answers and holds the
//	                                       configured state (seeded again if it lost it), 503 otherwise
//	GET  /__admin/config                   the configuration in force, secrets hidden
//	GET  /__admin/rules                    rules with their use counts
//	PUT  /__admin/rules                    replace every rule: {"rules":[...]}
//	GET  /__admin/apps                     the apps with their state, a page at a time: ?limit=&after=
//	GET  /__admin/apps/{app}               one app: clock, limits, counters, windows, journal size
//	DELETE /__admin/apps/{app}             forget a sandbox app: its state, journal and tokens
//	POST /__admin/apps/{app}/messages      the user wrote: {"open_id":"..."} opens a fresh window (an
//	                                       alias of .../users/{open_id}/messages; answers the app)
//	PUT  /__admin/apps/{app}/capability    {"enabled":false} turns customer service off
//	POST /__admin/apps/{app}/clock         {"advance":"49h"} moves the app's clock forward
//	POST /__admin/apps/{app}/reset         forget the app's windows, counters, journal, clock
//	GET  /__admin/requests                 the journal, newest first: ?app=&open_id=&outcome=&endpoint=&before=&limit=
//	GET|PUT|DELETE /__admin/apps/{app}/push           the app's push configuration (push.go)
//	POST /__admin/apps/{app}/users/{open_id}/messages  the user writes; pushed to the bot (push.go)
//	POST /__admin/apps/{app}/push/fields   a free-form push: an event, any fields (pushfields.go)
//	GET  /__admin/pushes[/{msg_id}]        the delivery log of the pushes (pushlog.go)
//	POST /__admin/pushes/{msg_id}/redeliver  send a push again, same MsgId, same bytes (pushlog.go)
//	POST /__admin/reset                    back to the configured state, in one step
//	GET  /__admin/faults                   fault plans with their counts
//	PUT  /__admin/faults                   replace the top-level fault plans: {"faults":[...]}
//	POST /__admin/faults/reset             restart the plans' counts and seeded draws
//	GET  /__admin/ca                       the CA certificate (PEM) of the HTTPS listener and proxy
//	POST /__admin/platforms/{p}/authorize  {"app":"..."}: an authorization code for a platform (tp.go)
//	POST /__admin/platforms/{p}/push       {"event":"ticket"}: a platform push now (tppush.go)
//	POST|GET /__admin/apps/{app}/users     create a user with a login code, list users (users.go)
//	POST /__admin/apps/{app}/users/{open_id}/code  a fresh login code for a user (users.go)
//	POST|GET|DELETE /__admin/apps/{app}/users/{open_id}/subscriptions  consents to subscribe messages (subscriptions.go)
//	GET  /__admin/apps/{app}/subscriptions  every consent of the app's users (subscriptions.go)
//	POST /__admin/apps/{app}/users/{open_id}/scenes  a form or payment for template/send (subscriptions.go)
//	     /__admin/ui/...                   the inbox (Options.UI)
package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/internal/nearest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// Prefix is where the admin API lives.
const Prefix = "/__admin"

// UIPath is where the inbox, the web view of the journal, lives (behind the admin token).
const UIPath = Prefix + "/ui"

// Options configure the admin API.
type Options struct {
	// Token, when set, is the bearer token every route but health and ready requires.
	Token string
	// CACert is the PEM certificate of the CA behind the fake's HTTPS, served at GET /__admin/ca.
	CACert []byte
	// UI, when set, builds the handler of UIPath and everything under it (the inbox).
	UI func(*API) http.Handler
	// LoopbackOnly says the fake listens on loopback addresses only: requests whose Host is not a
	// loopback name or address are then refused (a DNS-rebinding page cannot read the journal).
	LoopbackOnly bool
	// SessionTTL is how long an inbox login lasts (default 12 hours).
	SessionTTL time.Duration
	// Health, when set, reports a part of the fake that is unwell without stopping it (the journal
	// file: observe.JournalSink.Err). While it returns an error, GET /__admin/health answers
	// status "degraded" with the error as reason, still with HTTP 200: the process is alive and
	// serving, and a restart would not mend a full disk.
	Health func() error
	// LoginFailed, when set, is told of every wrong admin token and every attempt refused while
	// its address waits (throttle.go): the metrics count them.
	LoginFailed func(LoginFailure)
	// StreamDropped, when set, is told when the inbox drops a live stream that fell too far
	// behind: the metrics count them.
	StreamDropped func()
}

// API is the admin API: an http.Handler for Prefix and everything under it.
type API struct {
	core    *mockserver.Server
	store   store.Store
	opts    Options
	handler http.Handler
	logins  loginThrottle // wrong admin tokens per client address: throttle.go
}

// New returns the admin API of core.
func New(core *mockserver.Server, opts Options) *API {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	a := &API{core: core, store: core.Store(), opts: opts}
	a.handler = a.guard(lazy(a.router))
	return a
}

// lazy returns a handler that builds its handler with build on the first request. The admin
// router compiles a regular expression per route, and the inbox is built with it: a few
// milliseconds that the fake's start-up (exec to its first answer) need not wait for.
func lazy(build func() http.Handler) http.Handler {
	h := sync.OnceValue(build)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h().ServeHTTP(w, r) })
}

// Core returns the API core the admin API serves.
func (a *API) Core() *mockserver.Server { return a.core }

// StreamDropped tells Options.StreamDropped that the inbox dropped a live stream.
func (a *API) StreamDropped() {
	if a.opts.StreamDropped != nil {
		a.opts.StreamDropped()
	}
}

// TokenRequired reports whether the admin API asks for a token.
func (a *API) TokenRequired() bool { return a.opts.Token != "" }

// ServeHTTP serves the admin API.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Wrap returns a handler that serves the admin API under Prefix and passes every other request to
// next (the API core, or a handler around it).
func (a *API) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, Prefix) {
			a.handler.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *API) router() http.Handler {
	r := mux.NewRouter()
	p := prefixed{r, map[string][]string{}}
	p.handle("/health", a.health, http.MethodGet)
	p.handle("/ready", a.ready, http.MethodGet)
	p.handle("/config", a.config, http.MethodGet)
	p.handle("/rules", a.getRules, http.MethodGet)
	p.handle("/rules", a.putRules, http.MethodPut)
	p.handle("/apps", a.apps, http.MethodGet)
	p.handle("/apps/{app}", a.appState, http.MethodGet)
	p.handle("/apps/{app}", a.deleteApp, http.MethodDelete)
	p.handle("/apps/{app}/messages", a.userMessage, http.MethodPost)
	p.handle("/apps/{app}/capability", a.capability, http.MethodPut)
	p.handle("/apps/{app}/clock", a.clock, http.MethodPost)
	p.handle("/apps/{app}/reset", a.resetApp, http.MethodPost)
	p.handle("/requests", a.requests, http.MethodGet)
	p.handle("/reset", a.resetAll, http.MethodPost)
	p.handle("/faults", a.getFaults, http.MethodGet)
	p.handle("/faults", a.putFaults, http.MethodPut)
	p.handle("/faults/reset", a.restartFaults, http.MethodPost)
	p.handle("/ca", a.ca, http.MethodGet)
	p.handle("/platforms/{platform}/authorize", a.authorizePlatform, http.MethodPost) // tp.go
	p.handle("/platforms/{platform}/push", a.platformPush, http.MethodPost)           // tppush.go
	a.pushRoutes(p)                                                                   // push.go
	a.userRoutes(p)                                                                   // users.go
	a.pushLogRoutes(p)                                                                // pushlog.go
	a.subscriptionRoutes(p)                                                           // subscriptions.go
	if a.opts.UI != nil {
		r.PathPrefix(UIPath).Handler(a.opts.UI(a))
	}
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, fmt.Sprintf("no admin endpoint %s %s; see docs/admin-api.md", r.Method, r.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		allowed := p.methods[strings.TrimPrefix(templateOf(r.URL.Path), Prefix)]
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
		}
		WriteError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allowed, ", ")))
	})
	return r
}

// templateOf maps a concrete admin path to its route template: /__admin/apps/x/clock becomes
// /__admin/apps/{app}/clock.
func templateOf(path string) string {
	parts := strings.Split(strings.TrimPrefix(path, Prefix+"/"), "/")
	if len(parts) >= 2 && parts[0] == "apps" {
		parts[1] = "{app}"
	}
	if len(parts) >= 4 && parts[0] == "apps" && parts[2] == "users" {
		parts[3] = "{open_id}" // push.go
	}
	if len(parts) >= 2 && parts[0] == "pushes" {
		parts[1] = "{msg_id}" // pushlog.go
	}
	return Prefix + "/" + strings.Join(parts, "/")
}

// prefixed registers routes under Prefix on one router (a gorilla/mux subrouter would answer 404
// instead of 405 for a known path with another method), remembering each path's methods.
type prefixed struct {
	r       *mux.Router
	methods map[string][]string // path -> methods
}

func (p prefixed) handle(path string, h http.HandlerFunc, method string) {
	p.r.HandleFunc(Prefix+path, h).Methods(method)
	p.methods[path] = append(p.methods[path], method)
}

// WriteJSON writes v as indented JSON (HTML characters as they are: this is no page).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// WriteError writes an admin error.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, ErrorBody{Error: msg})
}

// StoreFailed answers an admin request whose store operation failed.
func StoreFailed(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrUnknownApp) {
		// The app went away meanwhile (a DELETE or a reset that raced with this call).
		WriteError(w, http.StatusNotFound, "store: "+err.Error())
		return
	}
	if errors.Is(err, store.ErrUnavailable) {
		// The store does not answer (the breaker is open, or the call ran out of its deadline):
		// nothing is wrong with the request, so say when to try again.
		w.Header().Set("Retry-After", "1")
		WriteError(w, http.StatusServiceUnavailable, "store: "+err.Error())
		return
	}
	WriteError(w, http.StatusInternalServerError, "store: "+err.Error())
}

// decodeInput decodes the JSON body into v, or answers 400 with the reason and an example of what
// to send (want) and returns false.
func decodeInput(w http.ResponseWriter, r *http.Request, v any, want string) bool {
	if err := decodeJSON(r, v); err != nil {
		WriteError(w, http.StatusBadRequest, err.Error()+" (want "+want+")")
		return false
	}
	return true
}

// decodeJSON decodes a small JSON body strictly, with errors that name what is wrong in JSON terms.
func decodeJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, mockserver.MaxBodyBytes))
	if err != nil {
		return fmt.Errorf("reading body: %w", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return errors.New("empty body: send a JSON object")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return fmt.Errorf("invalid JSON body: %s must be a JSON %s, not %s", fieldName(te.Field), jsonKind(te.Type.Kind().String()), te.Value)
		case errors.As(err, &se):
			return fmt.Errorf("invalid JSON body: %v at byte %d", se, se.Offset)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return fmt.Errorf("invalid JSON body: unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return fmt.Errorf("invalid JSON body: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return errors.New("invalid JSON body: more than one value")
	}
	return nil
}

func fieldName(f string) string {
	if f == "" {
		return "the body"
	}
	return strconv.Quote(f)
}

// jsonKind names a Go kind as JSON does.
func jsonKind(k string) string {
	switch k {
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	case "string":
		return "string"
	case "ptr":
		return "value"
	}
	return "number"
}

func (a *API) health(w http.ResponseWriter, r *http.Request) {
	h := Health{Status: "ok", Version: a.core.Version(),
		Uptime: a.core.Now().Sub(a.core.Started()).Round(time.Millisecond).String()}
	if a.opts.Health != nil {
		if err := a.opts.Health(); err != nil {
			h.Status, h.Reason = "degraded", err.Error()
		}
	}
	WriteJSON(w, http.StatusOK, h)
}

// ready answers 200 when the store answers and 503 (with the reason) when it does not.
func (a *API) ready(w http.ResponseWriter, r *http.Request) {
	if err := a.store.Ping(r.Context()); err != nil {
		w.Header().Set("Retry-After", "1")
		WriteError(w, http.StatusServiceUnavailable, "store: "+err.Error())
		return
	}
	if err := a.core.Seeded(r.Context()); err != nil {
		w.Header().Set("Retry-After", "1")
		WriteError(w, http.StatusServiceUnavailable, "store: "+err.Error())
		return
	}

	WriteJSON(w, http.StatusOK, Status{Status: "ready"})
}

func (a *API) config(w http.ResponseWriter, r *http.Request) {
	// Secrets (app and platform secrets, tickets, fixed tokens) stay out of the admin API.
	c := a.core.Config().Redacted()
	rules, err := a.core.Rules(r.Context())
	if err != nil {
		StoreFailed(w, err)
		return
	}
	c.Rules = rules.Rules
	WriteJSON(w, http.StatusOK, c)
}

func (a *API) ruleList(r *http.Request, rules mockserver.Rules) (RuleList, error) {
	counters, err := a.store.Counters(r.Context(), store.NoApp)
	if err != nil {
		return RuleList{}, err
	}
	out := RuleList{Rules: make([]RuleState, len(rules.Rules))}
	for i, rule := range rules.Rules {
		out.Rules[i] = RuleState{Rule: rule}
		if c, ok := counters[mockserver.RuleCounter(i)]; ok && c.Window == mockserver.RulePeriod(rules.Version) {
			out.Rules[i].Used = c.Count
		}
	}
	return out, nil
}

func (a *API) getRules(w http.ResponseWriter, r *http.Request) {
	rules, err := a.core.Rules(r.Context())
	if err == nil {
		var list RuleList
		if list, err = a.ruleList(r, rules); err == nil {
			WriteJSON(w, http.StatusOK, list)
			return
		}
	}
	StoreFailed(w, err)
}

// putRules replaces every rule at once, after checking them with the config parser.
func (a *API) putRules(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, mockserver.MaxBodyBytes))
	if err != nil {
		WriteError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return
	}
	rules, err := config.ParseRules("request body", body)
	if err != nil {
		WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := a.core.CheckRules(rules); err != nil {
		WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	set, err := a.core.PutRules(r.Context(), rules)
	if err == nil {
		var list RuleList
		if list, err = a.ruleList(r, set); err == nil {
			WriteJSON(w, http.StatusOK, list)
			return
		}
	}
	StoreFailed(w, err)
}

// appFromPath finds the app of the path, or answers 404 listing the apps there are.
func (a *API) appFromPath(w http.ResponseWriter, r *http.Request) (store.App, bool) {
	id := mux.Vars(r)["app"]
	app, ok, err := a.store.App(r.Context(), id)
	if err != nil {
		StoreFailed(w, err)
		return store.App{}, false
	}
	if !ok {
		WriteError(w, http.StatusNotFound, a.unknownApp(r, id))
		return store.App{}, false
	}
	return app, true
}

// AppView returns how an app stands: its clock, limits, counters, windows and journal size.
func (a *API) AppView(r *http.Request, app store.App) (AppView, error) {
	cfg := a.core.Config()
	ctx := r.Context()
	now, err := store.AppNow(ctx, a.store, app, a.core.Now())
	if err != nil {
		return AppView{}, err
	}
	counters, err := a.store.Counters(ctx, app.ID)
	if err != nil {
		return AppView{}, err
	}
	ws, err := a.store.Windows(ctx, app.ID)
	if err != nil {
		return AppView{}, err
	}
	held, dropped, err := a.store.JournalStats(ctx, app.ID)
	if err != nil {
		return AppView{}, err
	}
	ca, configured := a.core.ConfiguredApp(app.ID)
	v := AppView{App: app, Clock: now, Limits: cfg.AppLimits(ca), Counters: counters, Windows: []WindowView{},
		Journal: JournalStats{held, dropped}, WindowPolicy: cfg.Policy.Window, ConfiguredApp: configured}
	for _, win := range ws {
		exp := win.OpenedAt.Add(time.Duration(cfg.Policy.Window.Duration))
		left := max(cfg.Policy.Window.MaxReplies-win.Replies, 0)
		open := now.Before(exp)
		if !open {
			left = 0
		}
		v.Windows = append(v.Windows, WindowView{Window: win, ExpiresAt: exp, Open: open, RepliesLeft: left})
	}
	return v, nil
}

// DefaultAppPage is how many apps GET /__admin/apps lists when the request names no limit;
// MaxAppPage the most it lists.
const (
	DefaultAppPage = 100
	MaxAppPage     = 1000
)

// nearSample is how many apps, the first by id, a 404 for an unknown app compares the name
// with: its cost does not grow with the number of apps.
const nearSample = 64

// unknownApp words the 404 of an unknown app: the nearest name among a bounded sample, if any
// is near, and where to list the apps; never the list itself.
func (a *API) unknownApp(r *http.Request, id string) string {
	msg := fmt.Sprintf("unknown app %q", id)
	sample, err := a.store.AppPage(r.Context(), "", nearSample)
	if err == nil && len(sample) == 0 {
		return msg + "; no app yet (get a token first, or configure apps)"
	}
	ids := make([]string, 0, len(sample))
	for _, app := range sample {
		ids = append(ids, app.ID)
	}
	if near := nearest.Word(id, ids); near != "" {
		msg += fmt.Sprintf("; did you mean %q?", near)
	}
	return msg + "; GET " + Prefix + "/apps lists the apps"
}

// apps lists the apps a page at a time: ?limit= (DefaultAppPage, at most MaxAppPage) and
// ?after=<the next of the former page>.
func (a *API) apps(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		if k != "limit" && k != "after" {
			WriteError(w, http.StatusBadRequest, fmt.Sprintf("unknown query parameter %q (use limit, after)", k))
			return
		}
	}
	limit := DefaultAppPage
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxAppPage {
			WriteError(w, http.StatusBadRequest, fmt.Sprintf("limit: %q is not a number from 1 to %d", l, MaxAppPage))
			return
		}
		limit = n
	}
	apps, err := a.store.AppPage(r.Context(), q.Get("after"), limit)
	if err != nil {
		StoreFailed(w, err)
		return
	}
	out := AppList{Apps: make([]AppView, 0, len(apps))}
	if len(apps) == limit {
		out.Next = apps[len(apps)-1].ID
	}
	for _, app := range apps {
		v, err := a.AppView(r, app)
		if err != nil {
			StoreFailed(w, err)
			return
		}
		out.Apps = append(out.Apps, v)
	}
	WriteJSON(w, http.StatusOK, out)
}

func (a *API) appState(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	v, err := a.AppView(r, app)
	if err != nil {
		StoreFailed(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, v)
}

// deleteApp forgets a sandbox app (one a test made): its state, journal and tokens. A configured
// app answers 409: reset it instead.
func (a *API) deleteApp(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	err := a.store.DeleteApp(r.Context(), app.ID)
	switch {
	case errors.Is(err, store.ErrConfiguredApp):
		WriteError(w, http.StatusConflict, fmt.Sprintf("app %q comes from the configuration and cannot be deleted; POST %s/apps/%s/reset clears its state", app.ID, Prefix, app.ID))
	case errors.Is(err, store.ErrUnknownApp):
		WriteError(w, http.StatusNotFound, fmt.Sprintf("unknown app %q", app.ID))
	case err != nil:
		StoreFailed(w, err)
	default:
		WriteJSON(w, http.StatusOK, Status{Status: "deleted"})
	}
}

// userMessage is the alias of "the user writes" (push.go): {"open_id":"..."}, optionally with
// the canonical route's message, takes the very same path through the core, and answers the
// app's state. Without a message the window opens and nothing else happens.
func (a *API) userMessage(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	var in userMessageAlias
	if !decodeInput(w, r, &in, `{"open_id":"..."}`) {
		return
	}
	if in.OpenID == "" {
		WriteError(w, http.StatusBadRequest, `open_id: required (want {"open_id":"..."})`)
		return
	}
	if _, err := a.writeAsUser(r, app.ID, in.OpenID, in.UserWrites, false); err != nil {
		coreFailed(w, err)
		return
	}
	a.appState(w, r)
}

// userMessageAlias is what POST /__admin/apps/{app}/messages reads: the open_id of UserMessage
// and, optionally, the body of the canonical route.
type userMessageAlias struct {
	OpenID string `json:"open_id"`
	UserWrites
}

func (a *API) capability(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	var in Capability
	if !decodeInput(w, r, &in, `{"enabled":true|false}`) {
		return
	}
	if in.Enabled == nil {
		WriteError(w, http.StatusBadRequest, `enabled: required (want {"enabled":true|false})`)
		return
	}
	if _, err := a.store.UpdateApp(r.Context(), app.ID, in.Enabled, 0); err != nil {
		StoreFailed(w, err)
		return
	}
	a.appState(w, r)
}

// MaxClockOffset is how far an app's clock may run ahead of the server's: about 100 years, far
// past any token's or window's life and far from time.Duration's 292-year end, so that advances
// can neither overflow nor send a clock back.
const MaxClockOffset = 100 * 365 * 24 * time.Hour

// clock moves an app's clock forward: {"advance":"49h"}, up to MaxClockOffset in all.
func (a *API) clock(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	var in Clock
	if !decodeInput(w, r, &in, `{"advance":"49h"}`) {
		return
	}
	var d config.Duration
	if err := d.UnmarshalText([]byte(in.Advance)); err != nil || in.Advance == "" {
		WriteError(w, http.StatusBadRequest, fmt.Sprintf(`advance: invalid duration %q (want e.g. {"advance":"49h"})`, in.Advance))
		return
	}
	if d <= 0 {
		WriteError(w, http.StatusBadRequest, "advance: the clock only moves forward (want a positive duration)")
		return
	}
	if left := MaxClockOffset - app.ClockOffset; time.Duration(d) > left {
		WriteError(w, http.StatusBadRequest, fmt.Sprintf("advance: an app's clock runs at most %s ahead of the server's (%s left for app %s)",
			config.Duration(MaxClockOffset), config.Duration(max(left, 0)), app.ID))
		return
	}
	if _, err := a.store.UpdateApp(r.Context(), app.ID, nil, time.Duration(d)); err != nil {
		StoreFailed(w, err)
		return
	}
	a.appState(w, r)
}

func (a *API) resetApp(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	if err := a.store.Reset(r.Context(), app.ID, a.core.Seed(a.core.Now())); err != nil {
		StoreFailed(w, err)
		return
	}
	a.appState(w, r)
}

// resetAll restores the configured state in one step: sandbox apps, issued tokens, windows,
// counters, clocks and the journal are gone; configured apps, tokens, windows, rules and fault
// plans are as the file has them.
func (a *API) resetAll(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sd := a.core.Seed(a.core.Now())
	if err := a.store.Reset(r.Context(), "", sd); err != nil {
		StoreFailed(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, ResetSummary{Status: "reset", ConfiguredApps: len(sd.Apps), Took: time.Since(start).Round(time.Millisecond).String()})
}

// Outcomes lists the values the outcome filter takes besides codes: "ok", "error".
var Outcomes = []string{"ok", "error"}

// ParseOutcome checks an outcome filter: "", "ok", "error", a code, "layer code" or an OAuth
// error. The error lists what is accepted.
func ParseOutcome(s string) error {
	if s == "" || slices.Contains(Outcomes, s) {
		return nil
	}
	layer, code, two := strings.Cut(s, " ")
	if !two {
		code = s
	}
	if _, err := strconv.Atoi(code); err == nil && (!two || layer == "business" || layer == "gateway" || layer == "oauth") {
		return nil
	}
	if !two && slices.Contains(OAuthErrors, s) {
		return nil // an OAuth error such as invalid_client
	}
	if two && layer == "oauth" && slices.Contains(OAuthErrors, code) {
		return nil
	}
	hint := ""
	if near := nearest.Word(s, append(slices.Clone(Outcomes), OAuthErrors...)); near != "" {
		hint = fmt.Sprintf("did you mean %q? ", near)
	}
	return fmt.Errorf("outcome: %q is not an outcome (%suse ok, error, a code such as 3001 or 110, \"business 90001\", \"gateway 110\", or an OAuth error: %s)", s, hint, strings.Join(OAuthErrors, ", "))
}

// OAuthErrors lists the errors the token endpoints answer (openapi.yaml, OAuthError's error enum).
var OAuthErrors = []string{"invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type", "invalid_scope"}

// requests returns the journal: ?app=&open_id=&outcome=&before=&limit= (newest first).
func (a *API) requests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.Query{App: q.Get("app"), OpenID: q.Get("open_id"), Outcome: q.Get("outcome"), Endpoint: q.Get("endpoint"), Limit: 100}
	for k := range q {
		switch k {
		case "app", "open_id", "outcome", "endpoint", "limit", "before", "after":
		default:
			WriteError(w, http.StatusBadRequest, fmt.Sprintf("unknown query parameter %q (use app, open_id, outcome, endpoint, before, after, limit)", k))
			return
		}
	}
	if err := ParseOutcome(f.Outcome); err != nil {
		WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			WriteError(w, http.StatusBadRequest, fmt.Sprintf("limit: %q is not a non-negative number", l))
			return
		}
		f.Limit = n
	}
	for name, dst := range map[string]*uint64{"before": &f.Before, "after": &f.After} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				WriteError(w, http.StatusBadRequest, fmt.Sprintf("%s: %q is not a sequence number", name, v))
				return
			}
			*dst = n
		}
	}
	entries, err := a.store.Journal(r.Context(), f)
	if err != nil {
		StoreFailed(w, err)
		return
	}
	if entries == nil {
		entries = []store.Entry{}
	}
	WriteJSON(w, http.StatusOK, Requests{Requests: entries, Count: len(entries)})
}
