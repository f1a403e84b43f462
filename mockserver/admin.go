package mockserver

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/smartappmock/smartappmock/config"
)

// AdminPrefix is where the admin API lives.
const AdminPrefix = "/__admin"

// adminError is the JSON body of every admin error.
type adminError struct {
	Error string `json:"error"`
}

func (s *Server) adminRouter() http.Handler {
	r := mux.NewRouter()
	a := prefixed{r}
	a.HandleFunc("/health", s.adminHealth).Methods(http.MethodGet)
	a.HandleFunc("/config", s.adminConfig).Methods(http.MethodGet)
	a.HandleFunc("/rules", s.adminGetRules).Methods(http.MethodGet)
	a.HandleFunc("/rules", s.adminPutRules).Methods(http.MethodPut)
	a.HandleFunc("/apps", s.adminApps).Methods(http.MethodGet)
	a.HandleFunc("/apps/{app}", s.adminAppState).Methods(http.MethodGet)
	a.HandleFunc("/apps/{app}/messages", s.adminUserMessage).Methods(http.MethodPost)
	a.HandleFunc("/apps/{app}/capability", s.adminCapability).Methods(http.MethodPut)
	a.HandleFunc("/apps/{app}/clock", s.adminClock).Methods(http.MethodPost)
	a.HandleFunc("/apps/{app}/reset", s.adminResetApp).Methods(http.MethodPost)
	a.HandleFunc("/requests", s.adminRequests).Methods(http.MethodGet)
	a.HandleFunc("/reset", s.adminResetAll).Methods(http.MethodPost)
	s.adminFaultRoutes(a)
	r.PathPrefix(InboxPath).Handler(s.inboxHandler()) // the inbox: inbox.go
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeAdminError(w, http.StatusNotFound, fmt.Sprintf("no admin endpoint %s %s; see the README's admin API reference", r.Method, r.URL.Path))
	})
	notAllowed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeAdminError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path))
	})
	r.NotFoundHandler = notFound
	r.MethodNotAllowedHandler = notAllowed
	return s.requireAdminToken(r)
}

// requireAdminToken checks "Authorization: Bearer <token>" when an admin token is set. Health is
// open so that container health checks need no secret.
func (s *Server) requireAdminToken(next http.Handler) http.Handler {
	if s.adminTk == "" {
		return next
	}
	want := []byte("Bearer " + s.adminTk)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == AdminPrefix+"/health" {
			next.ServeHTTP(w, r)
			return
		}
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			if s.inboxSession(w, r, next) { // the inbox login and its session cookie: inbox_auth.go
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="smartappmock admin"`)
			writeAdminError(w, http.StatusUnauthorized, "admin API: missing or wrong bearer token (send Authorization: Bearer <admin token>)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// prefixed registers routes under AdminPrefix on one router (a gorilla/mux subrouter would answer
// 404 instead of 405 for a known path with another method).
type prefixed struct{ r *mux.Router }

func (p prefixed) HandleFunc(path string, h http.HandlerFunc) *mux.Route {
	return p.r.HandleFunc(AdminPrefix+path, h)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeAdminError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, adminError{Error: msg})
}

// storeFailed answers an admin request whose store operation failed.
func storeFailed(w http.ResponseWriter, err error) {
	writeAdminError(w, http.StatusInternalServerError, "store: "+err.Error())
}

// decodeAdminInput decodes the JSON body into v, or answers 400 with the reason and an example of
// what to send (want) and returns false.
func decodeAdminInput(w http.ResponseWriter, r *http.Request, v any, want string) bool {
	if err := decodeAdminJSON(r, v); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error()+" (want "+want+")")
		return false
	}
	return true
}

// decodeAdminJSON decodes a small JSON body strictly.
func decodeAdminJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		return fmt.Errorf("reading body: %w", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return errors.New("empty body: send a JSON object")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %w", err)
	}
	if dec.More() {
		return errors.New("invalid JSON body: more than one value")
	}
	return nil
}

func (s *Server) adminHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"status":  "ok",
		"version": s.version,
		"uptime":  s.now().Sub(s.started).Round(time.Millisecond).String(),
	})
}

func (s *Server) adminConfig(w http.ResponseWriter, r *http.Request) {
	c := s.Config()
	// Secrets stay out of the admin API.
	apps := make([]config.App, len(c.Apps))
	for i, a := range c.Apps {
		a.ClientSecret = "<redacted>"
		a.Tokens = nil
		apps[i] = a
	}
	c.Apps = apps
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) adminGetRules(w http.ResponseWriter, r *http.Request) {
	states, err := s.rules.Load().states(r.Context(), s.store)
	if err != nil {
		storeFailed(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": states})
}

// adminPutRules replaces every rule at once, after checking them with the config parser.
func (s *Server) adminPutRules(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return
	}
	rules, err := config.ParseRules("request body", body)
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.checkRuleCodes(rules); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	rs := s.newRuleSet(rules, true)
	s.rules.Store(rs)
	states, err := rs.states(r.Context(), s.store)
	if err != nil {
		storeFailed(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": states})
}

// appView is an app as the admin API shows it.
type appView struct {
	AppState
	Clock         time.Time          `json:"clock"`
	Limits        config.Limits      `json:"limits"`
	Counters      map[string]Counter `json:"counters"`
	Windows       []windowView       `json:"windows"`
	Journal       journalStats       `json:"journal"`
	WindowPolicy  config.Window      `json:"window_policy"`
	ConfiguredApp bool               `json:"configured"`
}

type windowView struct {
	WindowState
	ExpiresAt   time.Time `json:"expires_at"`
	Open        bool      `json:"open"`
	RepliesLeft int       `json:"replies_left"`
}

type journalStats struct {
	Held    int `json:"held"`
	Dropped int `json:"dropped"`
}

func (s *Server) appFromPath(w http.ResponseWriter, r *http.Request) (AppState, bool) {
	id := mux.Vars(r)["app"]
	app, ok, err := s.store.App(r.Context(), id)
	if err != nil {
		storeFailed(w, err)
		return AppState{}, false
	}
	if !ok {
		apps, _ := s.store.Apps(r.Context())
		ids := make([]string, 0, len(apps))
		for _, a := range apps {
			ids = append(ids, a.ID)
		}
		msg := fmt.Sprintf("unknown app %q", id)
		if len(ids) > 0 {
			msg += "; known apps: " + strings.Join(ids, ", ")
		} else {
			msg += "; no app yet (get a token first, or configure apps)"
		}
		writeAdminError(w, http.StatusNotFound, msg)
		return AppState{}, false
	}
	return app, true
}

func (s *Server) view(r *http.Request, app AppState) (appView, error) {
	cfg := s.cfg.Load()
	now := s.appNow(s.now(), app)
	counters, err := s.store.Counters(r.Context(), app.ID)
	if err != nil {
		return appView{}, err
	}
	ws, err := s.store.Windows(r.Context(), app.ID)
	if err != nil {
		return appView{}, err
	}
	held, dropped, err := s.store.JournalStats(r.Context(), app.ID)
	if err != nil {
		return appView{}, err
	}
	ca, configured := s.apps[app.ID]
	v := appView{AppState: app, Clock: now, Limits: cfg.AppLimits(ca), Counters: counters, Windows: []windowView{},
		Journal: journalStats{held, dropped}, WindowPolicy: cfg.Policy.Window, ConfiguredApp: configured}
	for _, w := range ws {
		exp := w.OpenedAt.Add(time.Duration(cfg.Policy.Window.Duration))
		left := max(cfg.Policy.Window.MaxReplies-w.Replies, 0)
		open := now.Before(exp)
		if !open {
			left = 0
		}
		v.Windows = append(v.Windows, windowView{WindowState: w, ExpiresAt: exp, Open: open, RepliesLeft: left})
	}
	return v, nil
}

func (s *Server) adminApps(w http.ResponseWriter, r *http.Request) {
	apps, err := s.store.Apps(r.Context())
	if err != nil {
		storeFailed(w, err)
		return
	}
	out := make([]appView, 0, len(apps))
	for _, a := range apps {
		v, err := s.view(r, a)
		if err != nil {
			storeFailed(w, err)
			return
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"apps": out})
}

func (s *Server) adminAppState(w http.ResponseWriter, r *http.Request) {
	app, ok := s.appFromPath(w, r)
	if !ok {
		return
	}
	v, err := s.view(r, app)
	if err != nil {
		storeFailed(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// adminUserMessage records "the user sent a message": a fresh window of 48 hours and 5 replies.
func (s *Server) adminUserMessage(w http.ResponseWriter, r *http.Request) {
	app, ok := s.appFromPath(w, r)
	if !ok {
		return
	}
	var in struct {
		OpenID string `json:"open_id"`
	}
	if !decodeAdminInput(w, r, &in, `{"open_id":"..."}`) {
		return
	}
	if in.OpenID == "" {
		writeAdminError(w, http.StatusBadRequest, `open_id: required (want {"open_id":"..."})`)
		return
	}
	if err := s.store.OpenWindow(r.Context(), app.ID, in.OpenID, s.appNow(s.now(), app)); err != nil {
		storeFailed(w, err)
		return
	}
	s.adminAppState(w, r)
}

func (s *Server) adminCapability(w http.ResponseWriter, r *http.Request) {
	app, ok := s.appFromPath(w, r)
	if !ok {
		return
	}
	var in struct {
		Enabled *bool `json:"enabled"`
	}
	if !decodeAdminInput(w, r, &in, `{"enabled":true|false}`) {
		return
	}
	if in.Enabled == nil {
		writeAdminError(w, http.StatusBadRequest, `enabled: required (want {"enabled":true|false})`)
		return
	}
	if _, err := s.store.UpdateApp(r.Context(), app.ID, in.Enabled, 0); err != nil {
		storeFailed(w, err)
		return
	}
	s.adminAppState(w, r)
}

// adminClock moves an app's clock forward: {"advance":"49h"}.
func (s *Server) adminClock(w http.ResponseWriter, r *http.Request) {
	app, ok := s.appFromPath(w, r)
	if !ok {
		return
	}
	var in struct {
		Advance string `json:"advance"`
	}
	if !decodeAdminInput(w, r, &in, `{"advance":"49h"}`) {
		return
	}
	var d config.Duration
	if err := d.UnmarshalText([]byte(in.Advance)); err != nil || in.Advance == "" {
		writeAdminError(w, http.StatusBadRequest, fmt.Sprintf(`advance: invalid duration %q (want e.g. {"advance":"49h"})`, in.Advance))
		return
	}
	if d <= 0 {
		writeAdminError(w, http.StatusBadRequest, "advance: the clock only moves forward (want a positive duration)")
		return
	}
	if _, err := s.store.UpdateApp(r.Context(), app.ID, nil, time.Duration(d)); err != nil {
		storeFailed(w, err)
		return
	}
	s.adminAppState(w, r)
}

// base returns an app's state as configured (capability as in the file, clock at zero).
func (s *Server) base(a AppState) AppState {
	a.ClockOffset = 0
	a.Capability = true
	if ca, ok := s.apps[a.ID]; ok {
		a.Capability = ca.CapabilityOn()
	}
	return a
}

func (s *Server) reopenConfiguredWindows(r *http.Request, only string) {
	for _, a := range s.apps {
		if only != "" && a.ID != only {
			continue
		}
		for _, id := range a.UserMessages {
			_ = s.store.OpenWindow(r.Context(), a.ID, id, s.now())
		}
	}
}

func (s *Server) adminResetApp(w http.ResponseWriter, r *http.Request) {
	app, ok := s.appFromPath(w, r)
	if !ok {
		return
	}
	if err := s.store.Reset(r.Context(), app.ID, s.base); err != nil {
		storeFailed(w, err)
		return
	}
	s.reopenConfiguredWindows(r, app.ID)
	s.adminAppState(w, r)
}

func (s *Server) adminResetAll(w http.ResponseWriter, r *http.Request) {
	if err := s.store.Reset(r.Context(), "", s.base); err != nil {
		storeFailed(w, err)
		return
	}
	s.reopenConfiguredWindows(r, "")
	s.resetFaults()
	writeJSON(w, http.StatusOK, map[string]string{"status": "reset"})
}

// adminRequests returns the journal: ?app=&open_id=&outcome=&limit= (newest first).
func (s *Server) adminRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := JournalFilter{App: q.Get("app"), OpenID: q.Get("open_id"), Outcome: q.Get("outcome"), Limit: 100}
	for k := range q {
		switch k {
		case "app", "open_id", "outcome", "limit":
		default:
			writeAdminError(w, http.StatusBadRequest, fmt.Sprintf("unknown query parameter %q (use app, open_id, outcome, limit)", k))
			return
		}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			writeAdminError(w, http.StatusBadRequest, fmt.Sprintf("limit: %q is not a non-negative number", l))
			return
		}
		f.Limit = n
	}
	entries, err := s.store.Journal(r.Context(), f)
	if err != nil {
		storeFailed(w, err)
		return
	}
	if entries == nil {
		entries = []Entry{}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Seq > entries[j].Seq })
	writeJSON(w, http.StatusOK, map[string]any{"requests": entries, "count": len(entries)})
}
