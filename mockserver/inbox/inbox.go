// Package inbox is the web view of the fake's journal under /__admin/ui: every app's users and
// their windows, each user's thread of sends with outcomes and reasons, live over server-sent
// events fed by the store's feed (so any replica shows what every replica served). It sits behind
// the admin API's token and sessions.
package inbox

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/internal/spec"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/store"
)

const (
	// inboxDefaultPage is how many entries a thread shows before "Load older".
	inboxDefaultPage = 200
	// inboxMaxPage is the largest page the entries feed answers.
	inboxMaxPage = 10000
	// inboxMaxUsers is how many users the user list shows.
	inboxMaxUsers = 500
	// inboxTimeLayout renders times in the page.
	inboxTimeLayout = "2006-01-02 15:04:05"
)

// inboxUI holds the inbox's embedded assets: the script and the style sheet (the page and the login
// form are written by page.go). It is read-only.
//
//go:embed ui
var inboxUI embed.FS

// inbox serves /__admin/ui: the page, its assets, the JSON feeds the page reads, the live event
// stream and the login form that turns the admin token into a session cookie.
type inbox struct {
	core     *mockserver.Server
	admin    *admin.API
	store    store.Store
	outcomes []inboxOption // the outcome filter's choices, fixed by openapi.yaml
	assets   http.Handler
	mux      *http.ServeMux

	// closing holds, per http.Server that serves the inbox, a channel closed when that server
	// shuts down: an event stream never goes idle, so it must end by itself for Shutdown to finish.
	mu      sync.Mutex
	closing map[*http.Server]chan struct{}

	hub hub // the live stream's one reader of the store's feed: events.go
}

// New returns the handler of admin.UIPath and everything under it, for admin.Options.UI:
//
//	admin.New(core, admin.Options{UI: inbox.New})
func New(a *admin.API) http.Handler {
	sub, err := fs.Sub(inboxUI, "ui")
	if err != nil {
		panic(err) // the directory is embedded: it exists
	}
	in := &inbox{
		core:     a.Core(),
		admin:    a,
		store:    a.Core().Store(),
		outcomes: inboxOutcomes(a.Core().Spec().Catalogue()),
		assets:   http.StripPrefix(admin.UIPath+"/assets/", http.FileServerFS(sub)),
		mux:      http.NewServeMux(),

		closing: map[*http.Server]chan struct{}{},
	}
	in.hub.init(in)
	m := in.mux
	m.HandleFunc("GET "+admin.UIPath, in.servePage)
	m.HandleFunc("GET "+admin.UIPath+"/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, admin.UIPath, http.StatusMovedPermanently)
	})
	m.HandleFunc("GET "+admin.UIPath+"/assets/{file}", in.serveAsset)
	m.HandleFunc("GET "+admin.UIPath+"/api/entries", in.serveEntries)
	m.HandleFunc("GET "+admin.UIPath+"/api/state", in.serveState)
	m.HandleFunc("GET "+admin.UIPath+"/events", in.serveEvents)
	m.HandleFunc("GET "+admin.LoginPath, in.serveLoginForm)
	m.HandleFunc("POST "+admin.LoginPath, in.serveLogin)
	m.HandleFunc("POST "+admin.LogoutPath, in.serveLogout)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		admin.WriteError(w, http.StatusNotFound, fmt.Sprintf("no inbox page %s %s; the inbox is at %s", r.Method, r.URL.Path, admin.UIPath))
	})
	return in
}

func (in *inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Everything a client sent is shown as text; the policy is a second line of defence: no inline
	// script, no script from elsewhere, images from any http(s) host (pic_url), no referrer to them.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src http: https: data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	in.mux.ServeHTTP(w, r)
}

func (in *inbox) serveAsset(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("file") {
	case "inbox.js", "inbox.css":
		w.Header().Set("Cache-Control", "no-cache")
		in.assets.ServeHTTP(w, r)
	default:
		admin.WriteError(w, http.StatusNotFound, fmt.Sprintf("no inbox asset %q", r.PathValue("file")))
	}
}

// inboxQuery is the view a page, feed or stream shows: an app ("" for all), a user and an outcome.
type inboxQuery struct {
	App, OpenID, Outcome string
}

func (q inboxQuery) filter() store.Query {
	return store.Query{App: q.App, OpenID: q.OpenID, Outcome: q.Outcome}
}

// parseInboxQuery reads app, open_id and outcome, and the extra parameters allowed; any other
// parameter is an error, so that a typo does not silently show everything.
func parseInboxQuery(r *http.Request, extra ...string) (inboxQuery, url.Values, error) {
	v := r.URL.Query()
	allowed := append([]string{"app", "open_id", "outcome"}, extra...)
	for k := range v {
		if !slices.Contains(allowed, k) {
			return inboxQuery{}, nil, fmt.Errorf("unknown query parameter %q (use %s)", k, strings.Join(allowed, ", "))
		}
	}
	return inboxQuery{App: v.Get("app"), OpenID: v.Get("open_id"), Outcome: v.Get("outcome")}, v, nil
}

// inboxPageData is what renderInboxPage shows.
type inboxPageData struct {
	Query    inboxQuery
	Limit    int
	Version  string
	Apps     []store.App
	Outcomes []inboxOption
	Policy   config.Window
	Login    bool // a session cookie is in use: offer to log out
}

type inboxOption struct {
	Value, Label string
}

func (in *inbox) servePage(w http.ResponseWriter, r *http.Request) {
	q, _, limit, err := parseInboxPage(r)
	if err != nil {
		admin.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	apps, err := in.store.Apps(r.Context())
	if err != nil {
		admin.StoreFailed(w, err)
		return
	}
	if q.App != "" && !slices.ContainsFunc(apps, func(a store.App) bool { return a.ID == q.App }) {
		admin.WriteError(w, http.StatusNotFound, fmt.Sprintf("unknown app %q", q.App))
		return
	}
	_, cookieErr := r.Cookie(admin.SessionCookie)
	data := inboxPageData{Query: q, Limit: limit, Version: in.core.Version(), Apps: apps,
		Outcomes: in.outcomes, Policy: in.core.Config().Policy.Window,
		Login: in.admin.TokenRequired() && cookieErr == nil}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if _, err := w.Write(renderInboxPage(data)); err != nil {
		in.core.Logger().Debug("inbox: writing the page", "err", err)
	}
}

// inboxOutcomes lists the choices of the outcome filter, from the catalogue of openapi.yaml.
func inboxOutcomes(cat spec.Catalogue) []inboxOption {
	out := []inboxOption{{"", "every outcome"}, {"ok", "successes"}, {"error", "failures"}}
	for _, b := range cat.Business {
		if b.Errno != 0 {
			out = append(out, inboxOption{"business " + strconv.Itoa(b.Errno), "errno " + strconv.Itoa(b.Errno) + " " + b.Message})
		}
	}
	for _, g := range cat.Gateway {
		out = append(out, inboxOption{"gateway " + strconv.Itoa(g.Code), "error_code " + strconv.Itoa(g.Code) + " " + g.Message})
	}
	return out
}

// parseInboxPage is parseInboxQuery for a view that shows a page of entries: it also reads limit,
// how many entries a page holds (inboxDefaultPage when not given).
func parseInboxPage(r *http.Request, extra ...string) (inboxQuery, url.Values, int, error) {
	q, v, err := parseInboxQuery(r, append(slices.Clip(extra), "limit")...)
	if err != nil {
		return inboxQuery{}, nil, 0, err
	}
	s := v.Get("limit")
	if s == "" {
		return q, v, inboxDefaultPage, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > inboxMaxPage {
		return inboxQuery{}, nil, 0, fmt.Errorf("limit: %q is not a number from 1 to %d", s, inboxMaxPage)
	}
	return q, v, n, nil
}

// inboxItem is a journal entry as the inbox shows it: the send's parameters picked out, Baidu's
// message for the code added.
type inboxItem struct {
	Seq      uint64 `json:"seq"`
	ID       string `json:"id"`
	Time     string `json:"time"`
	AppTime  string `json:"app_time"`
	App      string `json:"app"`
	Endpoint string `json:"endpoint"`
	Method   string `json:"method"`
	Path     string `json:"path"`
	OpenID   string `json:"open_id"`
	MsgType  string `json:"msg_type"`
	Content  string `json:"content"`
	PicURL   string `json:"pic_url"`
	// ImageURL is PicURL when it is an http(s) URL, the only kind the page loads.
	ImageURL string `json:"image_url"`
	Layer    string `json:"layer"`
	Code     int    `json:"code"`
	// CodeName is the field the client saw the code in: "errno", "error_code" or "error".
	CodeName   string `json:"code_name"`
	OAuthError string `json:"oauth_error,omitempty"`
	OK         bool   `json:"ok"`
	Outcome    string `json:"outcome"`
	// Message is Baidu's text for the code, from openapi.yaml.
	Message string `json:"message"`
	Reason  string `json:"reason"`
	Rule    string `json:"rule,omitempty"`
	// Fault is the fault injected into the answer and FaultPhase where it struck: "before" (the
	// message never reached the service: not delivered, nothing counted) or "after" (delivered
	// and counted; the client lost the answer).
	Fault      string `json:"fault,omitempty"`
	FaultPhase string `json:"fault_phase,omitempty"`
	// Warnings are the ways the answer is one the real service would not give.
	Warnings []store.Warning `json:"warnings,omitempty"`
	// Match, on the live stream, says whether the entry passes the page's filters.
	Match bool `json:"match,omitempty"`
	// Push is set on the entries of the message push (push.go).
	Push *inboxPush `json:"push,omitempty"`
	// Detail says in one line what a request beside the send carried (a subscribe or template
	// message, a consent, a content check: messages.go).
	Detail string `json:"detail,omitempty"`
}

func (in *inbox) item(e *store.Entry) inboxItem {
	it := inboxItem{Seq: e.Seq, ID: e.ID, Time: e.Time.UTC().Format(time.RFC3339Nano),
		AppTime: e.AppTime.UTC().Format(inboxTimeLayout), App: e.App, Endpoint: e.Endpoint,
		Method: e.Method, Path: e.Path, OpenID: e.OpenID, MsgType: e.MsgType, Layer: string(e.Layer),
		Code: e.Code, OAuthError: e.OAuthError, OK: e.OK(), Outcome: e.Outcome(), Reason: e.Reason,
		Rule: e.Rule, Fault: e.Fault, FaultPhase: e.FaultPhase, Warnings: e.Warnings}
	if e.FaultKind != "" && e.FaultPhase == config.FaultPhaseBefore {
		it.OK = false // the message never reached the service, whatever the fake decided
	}
	for _, p := range e.Params {
		if !p.Used {
			continue
		}
		switch p.Name {
		case smartappmock.ParamContent:
			it.Content = p.Value
		case smartappmock.ParamPicURL:
			it.PicURL = p.Value
		}
	}
	if u, err := url.Parse(it.PicURL); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		it.ImageURL = u.String()
	}
	pushFields(&it, e)
	messageFields(&it, e)
	cat := in.core.Spec().Catalogue()
	switch e.Layer {
	case smartappmock.LayerBusiness:
		it.CodeName = "errno"
		it.Message = businessMessage(cat, e.Code)
	case smartappmock.LayerGateway:
		it.CodeName = "error_code"
		it.Message, _ = cat.GatewayMessage(e.Code)
	case smartappmock.LayerOAuth:
		it.CodeName = "error"
		for _, o := range cat.OAuth {
			if o.Error == e.OAuthError {
				it.Message = o.Description
				break
			}
		}
	}
	return it
}

// serveEntries answers a page of the thread: the newest entries that match, before a sequence
// number if one is given, oldest first.
func (in *inbox) serveEntries(w http.ResponseWriter, r *http.Request) {
	q, v, limit, err := parseInboxPage(r, "before")
	if err != nil {
		admin.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	var before uint64
	if b := v.Get("before"); b != "" {
		if before, err = strconv.ParseUint(b, 10, 64); err != nil {
			admin.WriteError(w, http.StatusBadRequest, fmt.Sprintf("before: %q is not a sequence number", b))
			return
		}
	}
	f := q.filter()
	f.Before, f.Limit = before, limit+1
	entries, err := in.store.Journal(r.Context(), f)
	if err != nil {
		admin.StoreFailed(w, err)
		return
	}
	more := len(entries) > limit
	if more {
		entries = entries[:limit]
	}
	items := make([]inboxItem, len(entries))
	for i := range entries {
		items[len(entries)-1-i] = in.item(&entries[i])
	}
	// Compact: a page can hold thousands of entries.
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "application/json; charset=utf-8")
	if err := json.NewEncoder(w).Encode(map[string]any{"entries": items, "more": more}); err != nil {
		in.core.Logger().Debug("inbox: writing entries", "err", err)
	}
}

// inboxUser is one user of an app in the user list: last activity and window.
type inboxUser struct {
	OpenID string `json:"open_id"`
	// Last is the app time of the user's last send or user message.
	Last   string `json:"last"`
	last   time.Time
	Sends  int `json:"sends"`
	Failed int `json:"failed"`
	// Window says how the customer-service window stands, e.g. "3 of 5 replies left, 47h59m left".
	Window string `json:"window"`
	// RepliesLeft is the replies the window allows now (0 with no open window).
	RepliesLeft int  `json:"replies_left"`
	Open        bool `json:"open"`
	// Account is "baidu" or "guest" for a user the fake issued (apps[].users, the admin API), ""
	// for an open_id known only from the journal or a window.
	Account string `json:"account,omitempty"`
	// Logins counts the user's logins (v1, v2, the platform's) in the journal.
	Logins int `json:"logins,omitempty"`
}

// inboxState is the state of one app as the inbox shows it.
type inboxState struct {
	App        string `json:"app"`
	Clock      string `json:"clock"`
	Ahead      string `json:"ahead"`
	Capability bool   `json:"capability"`
	Held       int    `json:"held"`
	Dropped    int    `json:"dropped"`
	Policy     string `json:"policy"`
	// NoWindow is what a user without a window faces under the policy.
	NoWindow  string      `json:"no_window"`
	Users     []inboxUser `json:"users"`
	MoreUsers int         `json:"more_users"`
}

func (in *inbox) serveState(w http.ResponseWriter, r *http.Request) {
	q, _, err := parseInboxQuery(r)
	if err != nil {
		admin.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	if q.App == "" {
		admin.WriteError(w, http.StatusBadRequest, "app: required")
		return
	}
	st, status, err := in.state(r, q.App)
	if err != nil {
		admin.WriteError(w, status, err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	admin.WriteJSON(w, http.StatusOK, st)
}

func (in *inbox) state(r *http.Request, id string) (inboxState, int, error) {
	ctx := r.Context()
	app, ok, err := in.store.App(ctx, id)
	if err != nil {
		return inboxState{}, http.StatusInternalServerError, fmt.Errorf("store: %w", err)
	}
	if !ok {
		return inboxState{}, http.StatusNotFound, fmt.Errorf("unknown app %q", id)
	}
	v, err := in.admin.AppView(r, app)
	if err != nil {
		return inboxState{}, http.StatusInternalServerError, fmt.Errorf("store: %w", err)
	}
	entries, err := in.store.Journal(ctx, store.Query{App: id})
	if err != nil {
		return inboxState{}, http.StatusInternalServerError, fmt.Errorf("store: %w", err)
	}
	st := inboxState{App: id, Clock: v.Clock.UTC().Format(inboxTimeLayout) + " UTC",
		Capability: app.Capability, Held: v.Journal.Held, Dropped: v.Journal.Dropped,
		Policy: fmt.Sprintf("%d replies within %s of a user message (%s)", v.WindowPolicy.MaxReplies,
			inboxDuration(time.Duration(v.WindowPolicy.Duration)), strings.ReplaceAll(string(v.WindowPolicy.Mode), "_", " ")),
		NoWindow: inboxNoWindow(v.WindowPolicy.Mode)}
	if app.ClockOffset > 0 {
		st.Ahead = "+" + inboxDuration(app.ClockOffset)
	}
	users := map[string]*inboxUser{}
	user := func(id string) *inboxUser {
		u := users[id]
		if u == nil {
			u = &inboxUser{OpenID: id, Window: inboxNoWindow(v.WindowPolicy.Mode)}
			users[id] = u
		}
		return u
	}
	issued, err := in.core.Users(ctx, id, "", inboxMaxUsers)
	if err != nil {
		return inboxState{}, http.StatusInternalServerError, fmt.Errorf("store: %w", err)
	}
	for _, iu := range issued {
		u := user(iu.OpenID)
		u.Account = "baidu"
		if iu.Guest() {
			u.Account = "guest"
		}
	}
	for i := range entries {
		e := &entries[i]
		if isLogin(e.Endpoint) && e.OpenID != "" && e.OK() {
			user(e.OpenID).Logins++
			continue
		}
		if !isSend(e.Endpoint) || e.OpenID == "" {
			continue
		}
		u := user(e.OpenID)
		u.Sends++
		if !e.OK() {
			u.Failed++
		}
		if e.AppTime.After(u.last) {
			u.last = e.AppTime
		}
	}
	for _, wv := range v.Windows {
		u := user(wv.OpenID)
		if wv.UserMessage && wv.OpenedAt.After(u.last) {
			u.last = wv.OpenedAt
		}
		u.Open, u.RepliesLeft = wv.Open, wv.RepliesLeft
		if wv.Open {
			u.Window = fmt.Sprintf("%d of %d replies left, %s left", wv.RepliesLeft, v.WindowPolicy.MaxReplies,
				inboxDuration(wv.ExpiresAt.Sub(v.Clock)))
		} else {
			u.Window = "window expired " + inboxDuration(v.Clock.Sub(wv.ExpiresAt)) + " ago"
		}
	}
	for _, u := range users {
		if !u.last.IsZero() {
			u.Last = u.last.UTC().Format(inboxTimeLayout)
		}
		st.Users = append(st.Users, *u)
	}
	slices.SortFunc(st.Users, func(a, b inboxUser) int {
		if c := b.last.Compare(a.last); c != 0 {
			return c
		}
		return strings.Compare(a.OpenID, b.OpenID)
	})
	if len(st.Users) > inboxMaxUsers {
		st.MoreUsers = len(st.Users) - inboxMaxUsers
		st.Users = st.Users[:inboxMaxUsers]
	}
	if st.Users == nil {
		st.Users = []inboxUser{}
	}
	return st, http.StatusOK, nil
}

func inboxNoWindow(mode config.WindowMode) string {
	if mode == config.WindowOpenOnFirstSend {
		return "no window yet: the first send opens one"
	}
	return "no window: sends answer 90001 until the user writes"
}

// inboxDuration renders a duration to the minute: "47h59m", "5m", "0m".
func inboxDuration(d time.Duration) string {
	d = d.Truncate(time.Minute)
	if d < 0 {
		d = 0
	}
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	if h > 0 {
		return fmt.Sprintf("%dh%02dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}

// shutdownSignal returns a channel closed when the http.Server serving r shuts down (nil, which
// never fires, when r did not come through an http.Server). It registers once per server.
func (in *inbox) shutdownSignal(r *http.Request) <-chan struct{} {
	hs, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if hs == nil {
		return nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	ch, ok := in.closing[hs]
	if !ok {
		ch = make(chan struct{})
		in.closing[hs] = ch
		hs.RegisterOnShutdown(func() { close(ch) })
	}
	return ch
}

// isSend reports whether a journal endpoint is a customer-service send: custom/send, or its
// third-party twin custom/sendbytp.
func isSend(endpoint string) bool { return endpoint == "send" || endpoint == "sendbytp" }

// isLogin reports whether a journal endpoint is a login: v1, v2 or the platform's.
func isLogin(endpoint string) bool {
	return endpoint == "login_v1" || endpoint == "login_v2" || endpoint == "tp_login"
}
