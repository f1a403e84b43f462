package admin

// Users and their login codes. The handlers decode, call the API core (mockserver.Server's
// CreateUser, NewLoginCode, User and Users) and render its answer.
//
//	POST /__admin/apps/{app}/users                  create a user: {"account":"alice","nickname":"…"} (every field optional)
//	GET  /__admin/apps/{app}/users                  list them: ?after=<open_id>&limit=<n> (default 100)
//	GET  /__admin/apps/{app}/users/{open_id}        one user
//	POST /__admin/apps/{app}/users/{open_id}/code   a fresh login code (and session_key) for the user

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// UserList is the answer of GET /__admin/apps/{app}/users: a page of users sorted by open_id;
// Next, when not empty, is the after= of the next page.
type UserList struct {
	Users []mockserver.User `json:"users"`
	Next  string            `json:"next,omitempty"`
}

// maxUserPage is the largest page of GET /__admin/apps/{app}/users.
const maxUserPage = 1000

func (a *API) userRoutes(p prefixed) {
	p.handle("/apps/{app}/users", a.createUser, http.MethodPost)
	p.handle("/apps/{app}/users", a.listUsers, http.MethodGet)
	p.handle("/apps/{app}/users/{open_id}", a.getUser, http.MethodGet)
	p.handle("/apps/{app}/users/{open_id}/code", a.loginCode, http.MethodPost)
}

// createUser creates a user; an empty body creates a Baidu-account user with every field derived.
func (a *API) createUser(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	var in config.User
	if r.ContentLength != 0 {
		body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, mockserver.MaxBodyBytes))
		if err != nil {
			WriteError(w, http.StatusBadRequest, "reading body: "+err.Error())
			return
		}
		if strings.TrimSpace(string(body)) != "" {
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			if !decodeInput(w, r, &in, `{"account":"alice","nickname":"Alice","sex":2,"mobile":"15000000000"} or {"guest":true}`) {
				return
			}
		}
	}
	l, err := a.core.CreateUser(r.Context(), app.ID, in)
	if err != nil {
		userFailed(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, l)
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	limit := 100
	for k := range q {
		if k != "after" && k != "limit" {
			WriteError(w, http.StatusBadRequest, fmt.Sprintf("unknown query parameter %q (use after, limit)", k))
			return
		}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxUserPage {
			WriteError(w, http.StatusBadRequest, fmt.Sprintf("limit: %q is not a number from 1 to %d", l, maxUserPage))
			return
		}
		limit = n
	}
	users, err := a.core.Users(r.Context(), app.ID, q.Get("after"), limit+1)
	if err != nil {
		StoreFailed(w, err)
		return
	}
	out := UserList{Users: users}
	if len(users) > limit {
		out.Users = users[:limit]
		out.Next = users[limit-1].OpenID
	}
	WriteJSON(w, http.StatusOK, out)
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	openID := mux.Vars(r)["open_id"]
	u, found, err := a.core.User(r.Context(), app.ID, openID)
	switch {
	case err != nil:
		StoreFailed(w, err)
	case !found:
		WriteError(w, http.StatusNotFound, fmt.Sprintf("open_id %q: not a user of app %s (create it: POST %s/apps/%s/users)", openID, app.ID, Prefix, app.ID))
	default:
		WriteJSON(w, http.StatusOK, u)
	}
}

func (a *API) loginCode(w http.ResponseWriter, r *http.Request) {
	app, ok := a.appFromPath(w, r)
	if !ok {
		return
	}
	l, err := a.core.NewLoginCode(r.Context(), app.ID, mux.Vars(r)["open_id"])
	if err != nil {
		userFailed(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, l)
}

// userFailed answers an error of the core's user actions.
func userFailed(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, mockserver.ErrUserExists):
		WriteError(w, http.StatusConflict, err.Error())
	case mockserver.ErrorCodeOf(err) == mockserver.ErrNotFound || errors.Is(err, store.ErrUnknownApp):
		WriteError(w, http.StatusNotFound, err.Error())
	case mockserver.ErrorCodeOf(err) == mockserver.ErrInvalid:
		WriteError(w, http.StatusBadRequest, err.Error())
	default:
		WriteError(w, http.StatusInternalServerError, err.Error())
	}
}

// CreateUser creates a user of app (every field of in optional) and returns its login.
func (c *Client) CreateUser(ctx context.Context, app string, in config.User) (mockserver.Login, error) {
	var l mockserver.Login
	return l, c.Do(ctx, http.MethodPost, Prefix+"/apps/"+url.PathEscape(app)+"/users", in, &l)
}

// LoginCode returns a fresh login code for an existing user.
func (c *Client) LoginCode(ctx context.Context, app, openID string) (mockserver.Login, error) {
	var l mockserver.Login
	return l, c.Do(ctx, http.MethodPost, Prefix+"/apps/"+url.PathEscape(app)+"/users/"+url.PathEscape(openID)+"/code", nil, &l)
}

// Users returns a page of app's users after the open_id after (limit 0: the route's default).
func (c *Client) Users(ctx context.Context, app, after string, limit int) (UserList, error) {
	v := url.Values{}
	if after != "" {
		v.Set("after", after)
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	path := Prefix + "/apps/" + url.PathEscape(app) + "/users"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var l UserList
	return l, c.Do(ctx, http.MethodGet, path, nil, &l)
}
