package inbox

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/smartappmock/smartappmock/mockserver/admin"
)

// inboxLoginData is what renderLoginPage shows.
type inboxLoginData struct {
	Query  string
	Failed bool
	// Wait, when set, says the address tried too many wrong tokens and must wait.
	Wait string
}

func (in *inbox) serveLoginForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !in.admin.TokenRequired() || in.admin.HasSession(r) {
		http.Redirect(w, r, admin.AfterLogin(q.Get("q")), http.StatusSeeOther)
		return
	}
	in.renderLogin(w, http.StatusOK, inboxLoginData{Query: q.Get("q"), Failed: q.Get("failed") != ""})
}

func (in *inbox) renderLogin(w http.ResponseWriter, status int, d inboxLoginData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if _, err := w.Write(renderLoginPage(d)); err != nil {
		in.core.Logger().Debug("inbox: writing the login form", "err", err)
	}
}

// serveLogin turns the admin token of the login form into a session.
func (in *inbox) serveLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		admin.WriteError(w, http.StatusBadRequest, "login form: "+err.Error())
		return
	}
	q := r.PostForm.Get("q")
	if !in.admin.TokenRequired() {
		http.Redirect(w, r, admin.AfterLogin(q), http.StatusSeeOther)
		return
	}
	ok, err := in.admin.Login(w, r, r.PostForm.Get("token"))
	var te *admin.ThrottledError
	if errors.As(err, &te) {
		w.Header().Set("Retry-After", strconv.Itoa(te.RetryAfter()))
		in.renderLogin(w, http.StatusTooManyRequests, inboxLoginData{Query: q, Failed: true, Wait: te.Error()})
		return
	}
	if err != nil {
		admin.StoreFailed(w, err)
		return
	}
	if !ok {
		in.renderLogin(w, http.StatusUnauthorized, inboxLoginData{Query: q, Failed: true})
		return
	}
	http.Redirect(w, r, admin.AfterLogin(q), http.StatusSeeOther)
}

// serveLogout ends the session everywhere and goes back to the login form.
func (in *inbox) serveLogout(w http.ResponseWriter, r *http.Request) {
	in.admin.Logout(w, r)
	http.Redirect(w, r, admin.LoginPath, http.StatusSeeOther)
}
