package admin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// How a request gets into the admin API.
//
// With a token (Options.Token), every route but health and ready needs "Authorization: Bearer
// <token>" (the scheme in any case). A browser cannot put a bearer token on a page load or an
// EventSource, so the inbox's login form (or ?token= on the page) exchanges the token for a
// session: a random id held in the Store (so every replica accepts it) until it expires or the
// user logs out, sent back as a cookie that is HttpOnly (no script reads it), SameSite=Strict (no
// other site sends it) and scoped to /__admin. A request that changes state with the cookie must
// also carry the X-Smartappmock-Inbox header, which another origin cannot add without a CORS
// preflight the fake never grants.
//
// With or without a token, a state-changing request that a browser marks as coming from another
// origin (Sec-Fetch-Site cross-site or same-site, or an Origin that is not the fake's own) is
// refused with 403, so no web page
// can drive the admin API; and while the fake listens on loopback only (Options.LoopbackOnly), a
// request whose Host is not a loopback name or address is refused, so a DNS-rebinding page cannot
// read the journal.
const (
	// SessionCookie holds the inbox session id.
	SessionCookie = "smartappmock_inbox"
	// LoginPath and LogoutPath are the inbox's login form and logout.
	LoginPath  = UIPath + "/login"
	LogoutPath = UIPath + "/logout"
	assetsPath = UIPath + "/assets/"
	// CSRFHeader must accompany a state-changing request authenticated by the cookie.
	CSRFHeader = "X-Smartappmock-Inbox"
)

// guard refuses foreign hosts and cross-site writes, then checks the token or the session.
func (a *API) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.opts.LoopbackOnly && !loopbackHost(r.Host) {
			WriteError(w, http.StatusForbidden, "admin API: Host "+quoteClip(r.Host)+" is not this machine (the fake listens on loopback only; this refuses DNS rebinding)")
			return
		}
		if changesState(r.Method) && crossSite(r) {
			WriteError(w, http.StatusForbidden, "admin API: refusing a cross-site "+r.Method+" (Origin "+quoteClip(r.Header.Get("Origin"))+"): no web page may change the fake's state")
			return
		}
		p := r.URL.Path
		if a.opts.Token == "" || p == Prefix+"/health" || p == Prefix+"/ready" {
			next.ServeHTTP(w, r)
			return
		}
		if token, ok := bearerToken(r); ok {
			valid, err := a.checkToken(r, ViaBearer, token) // throttle.go
			var te *ThrottledError
			if errors.As(err, &te) {
				WriteThrottled(w, te)
				return
			}
			if valid {
				next.ServeHTTP(w, r)
				return
			}
		}
		if a.sessionGate(w, r, next) {
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="smartappmock admin"`)
		WriteError(w, http.StatusUnauthorized, "admin API: missing or wrong bearer token (send Authorization: Bearer <admin token>)")
	})
}

func changesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// crossSite reports whether a browser says the request comes from another origin. Sec-Fetch-Site
// is trusted when a browser sends it ("same-site" is refused too: another port of 127.0.0.1 is
// the same site, but not the fake's page). Without it, the Origin must be the fake's own: a
// "null" Origin is refused, except that browsers send it for the inbox's own form posts under
// its no-referrer policy, and those carry Sec-Fetch-Site: same-origin.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
	default:
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return true // "null" (a sandboxed frame, a file) or garbage: not our page
	}
	return !strings.EqualFold(u.Host, r.Host)
}

// loopbackHost reports whether a Host header names this machine: localhost, a loopback address,
// or the fake's TLS name for Baidu (reached through the proxy, which listens on loopback too).
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") || strings.EqualFold(host, "openapi.baidu.com") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func quoteClip(s string) string {
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return "\"" + strings.ReplaceAll(s, "\"", "'") + "\""
}

// bearerToken returns the token of an Authorization header of the Bearer scheme (in any case),
// and whether there is a non-empty one.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

func (a *API) tokenValid(token string) bool {
	return a.opts.Token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(a.opts.Token)) == 1
}

// HasSession reports whether r carries a live inbox session.
func (a *API) HasSession(r *http.Request) bool {
	c, err := r.Cookie(SessionCookie)
	if err != nil || a.opts.Token == "" || c.Value == "" {
		return false
	}
	ok, err := a.store.Session(r.Context(), c.Value, a.core.Now())
	return err == nil && ok
}

// sessionGate is the second chance for a request without the bearer token. It serves the request
// (and returns true) when it is the open login or logout form, when it carries a live session,
// or when it is a page load of the inbox that must go to the login form; it returns false, and
// the guard answers 401, for everything else.
func (a *API) sessionGate(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
	p := r.URL.Path
	// The login form, logging out and the static script and style sheet hold no data.
	if p == LoginPath || p == LogoutPath || (strings.HasPrefix(p, assetsPath) && r.Method == http.MethodGet) {
		next.ServeHTTP(w, r)
		return true
	}
	if a.HasSession(r) {
		if changesState(r.Method) && r.Header.Get(CSRFHeader) == "" {
			return false
		}
		next.ServeHTTP(w, r)
		return true
	}
	if p != UIPath || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	q := r.URL.Query()
	if t := q.Get("token"); t != "" {
		valid, err := a.checkToken(r, ViaPageToken, t) // throttle.go
		var te *ThrottledError
		if errors.As(err, &te) {
			WriteThrottled(w, te)
			return true
		}
		if valid {
			// Swap the token in the address for a session, and drop it from the address.
			if err := a.startSession(w, r); err != nil {
				StoreFailed(w, err)
				return true
			}
			q.Del("token")
			http.Redirect(w, r, withQuery(UIPath, q), http.StatusSeeOther)
			return true
		}
	}
	login := url.Values{}
	q.Del("token")
	if len(q) > 0 {
		login.Set("q", q.Encode())
	}
	if r.URL.Query().Get("token") != "" {
		login.Set("failed", "1")
	}
	http.Redirect(w, r, withQuery(LoginPath, login), http.StatusSeeOther)
	return true
}

// maxRedirectQuery bounds the query a redirect's Location carries (2 KiB): a longer one (no inbox
// view needs one) is dropped, so the fake never echoes an oversized header.
const maxRedirectQuery = 2 << 10

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	if enc := q.Encode(); len(enc) <= maxRedirectQuery {
		return path + "?" + enc
	}
	return path
}

// startSession makes a new session and sets its cookie.
func (a *API) startSession(w http.ResponseWriter, r *http.Request) error {
	var b [32]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	if err := a.store.PutSession(r.Context(), id, a.core.Now().Add(a.opts.SessionTTL)); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: Prefix, MaxAge: int(a.opts.SessionTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	return nil
}

// Login checks the admin token a login form sent; when it is right it starts a session (cookie
// set on w) and returns true. A wrong token is logged and counted; while the client's address
// must wait after too many (throttle.go), the token is not checked and the error is a
// *ThrottledError.
func (a *API) Login(w http.ResponseWriter, r *http.Request, token string) (bool, error) {
	ok, err := a.checkToken(r, ViaLoginForm, token)
	if err != nil || !ok {
		return false, err
	}
	return true, a.startSession(w, r)
}

// Logout ends the request's session, in the store (every replica forgets it) and in the browser.
func (a *API) Logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		_ = a.store.DeleteSession(r.Context(), c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: Prefix, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// AfterLogin is where a login goes: the inbox with the view it was asked for (only a query string
// is carried, never a path, so the form cannot redirect elsewhere).
func AfterLogin(rawQuery string) string {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return UIPath
	}
	q.Del("token")
	return withQuery(UIPath, q)
}
