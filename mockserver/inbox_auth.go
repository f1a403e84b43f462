package mockserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// How a browser gets past --admin-token: it cannot put a bearer token on a page load or an
// EventSource, so the login form (or ?token= on the page) exchanges the admin token for a session
// cookie: HttpOnly (no script reads it), SameSite=Strict (no other site sends it), scoped to
// /__admin, holding an HMAC of the token rather than the token. The cookie is worth exactly the
// token. A request that changes state with the cookie must also carry the X-Smartappmock-Inbox
// header, which another origin cannot add without a CORS preflight the fake never grants.
const (
	inboxCookie     = "smartappmock_inbox"
	inboxLoginPath  = InboxPath + "/login"
	inboxLogoutPath = InboxPath + "/logout"
	inboxAssetsPath = InboxPath + "/assets/"
	// inboxCSRFHeader must accompany a state-changing request authenticated by the cookie.
	inboxCSRFHeader = "X-Smartappmock-Inbox"
)

// inboxSessionValue is the cookie value for the admin token in force.
func (s *Server) inboxSessionValue() string {
	m := hmac.New(sha256.New, []byte(s.adminTk))
	m.Write([]byte("smartappmock inbox session v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) inboxCookieValid(r *http.Request) bool {
	c, err := r.Cookie(inboxCookie)
	if err != nil || s.adminTk == "" {
		return false
	}
	return hmac.Equal([]byte(c.Value), []byte(s.inboxSessionValue()))
}

func (s *Server) inboxTokenValid(token string) bool {
	return s.adminTk != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.adminTk)) == 1
}

// inboxSession is the admin middleware's second chance for a request without the bearer token. It
// serves the request (and returns true) when it is the open login or logout form, when it carries a
// valid session cookie, or when it is a page load of the inbox that must go to the login form; it
// returns false, and the middleware answers 401, for everything else.
func (s *Server) inboxSession(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
	p := r.URL.Path
	// The login form, logging out and the static script and style sheet hold no data.
	if p == inboxLoginPath || p == inboxLogoutPath || (strings.HasPrefix(p, inboxAssetsPath) && r.Method == http.MethodGet) {
		next.ServeHTTP(w, r)
		return true
	}
	if s.inboxCookieValid(r) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if r.Header.Get(inboxCSRFHeader) == "" {
				return false
			}
		}
		next.ServeHTTP(w, r)
		return true
	}
	if p != InboxPath || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	q := r.URL.Query()
	if t := q.Get("token"); t != "" && s.inboxTokenValid(t) {
		// Swap the token in the address for the cookie, and drop it from the address.
		s.setInboxCookie(w, r)
		q.Del("token")
		http.Redirect(w, r, inboxURL(InboxPath, q), http.StatusSeeOther)
		return true
	}
	login := url.Values{}
	q.Del("token")
	if len(q) > 0 {
		login.Set("q", q.Encode())
	}
	if r.URL.Query().Get("token") != "" {
		login.Set("failed", "1")
	}
	http.Redirect(w, r, inboxURL(inboxLoginPath, login), http.StatusSeeOther)
	return true
}

func inboxURL(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func (s *Server) setInboxCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: inboxCookie, Value: s.inboxSessionValue(), Path: AdminPrefix,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// inboxLoginData is what renderLoginPage shows.
type inboxLoginData struct {
	Query  string
	Failed bool
}

// inboxAfterLogin is where a login goes: the inbox with the view it was asked for (only a query
// string is carried, never a path, so the form cannot redirect elsewhere).
func inboxAfterLogin(rawQuery string) string {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return InboxPath
	}
	q.Del("token")
	return inboxURL(InboxPath, q)
}

func (in *inbox) serveLoginForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if in.s.adminTk == "" || in.s.inboxCookieValid(r) {
		http.Redirect(w, r, inboxAfterLogin(q.Get("q")), http.StatusSeeOther)
		return
	}
	in.renderLogin(w, http.StatusOK, inboxLoginData{Query: q.Get("q"), Failed: q.Get("failed") != ""})
}

func (in *inbox) renderLogin(w http.ResponseWriter, status int, d inboxLoginData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if _, err := w.Write(renderLoginPage(d)); err != nil {
		in.s.log.Debug("inbox: writing the login form", "err", err)
	}
}

func (in *inbox) serveLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeAdminError(w, http.StatusBadRequest, "login form: "+err.Error())
		return
	}
	q := r.PostForm.Get("q")
	if in.s.adminTk == "" {
		http.Redirect(w, r, inboxAfterLogin(q), http.StatusSeeOther)
		return
	}
	if !in.s.inboxTokenValid(r.PostForm.Get("token")) {
		in.renderLogin(w, http.StatusUnauthorized, inboxLoginData{Query: q, Failed: true})
		return
	}
	in.s.setInboxCookie(w, r)
	http.Redirect(w, r, inboxAfterLogin(q), http.StatusSeeOther)
}

func (in *inbox) serveLogout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: inboxCookie, Value: "", Path: AdminPrefix, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, inboxLoginPath, http.StatusSeeOther)
}
