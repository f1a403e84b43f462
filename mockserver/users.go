package mockserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
)

// Users and their login codes, as the store keeps them (store.Record, JSON):
//
//	app  "user"    <open_id>  the User
//	app  "code"    <code>     a LoginCode: one swan.login code, taken once
//	NoApp "open_id" <open_id> {"app":…}: which app issued an open_id (a send of another app
//	                          answers 30022); it may outlive its user (a reset), so it is
//	                          read together with the user it points at
//	app  "tp_auth" <tag>      the app authorized the platform of the tag (AuthorizePlatform)
const (
	kindUser   = "user"
	kindCode   = "code"
	kindOpenID = "open_id"
	kindTPAuth = "tp_auth"
)

// User is a user of an app: one who logged in to the mini program. Users come from the
// configuration (apps[].users) and the admin API (CreateUser); their open_ids are unique in an
// app, and a Baidu account's UnionID is the same in every app of one entity (apps[].entity).
type User struct {
	// App is the app the user logged in to.
	App string `json:"app"`
	// OpenID is the user's id in the app.
	OpenID string `json:"open_id"`
	// UnionID is the account's id across the apps of the app's entity; empty for a guest.
	UnionID string `json:"union_id,omitempty"`
	// UserType is 1 for a guest, 2 for a Baidu account (the user_type of a send).
	UserType int `json:"user_type"`
	// Account names the Baidu account (empty for a guest).
	Account string `json:"account,omitempty"`
	// Nickname, HeadImgURL, Sex and Mobile are the user's data (swan.getUserInfo, getPhoneNumber).
	Nickname   string `json:"nickname,omitempty"`
	HeadImgURL string `json:"headimgurl,omitempty"`
	Sex        int    `json:"sex"`
	Mobile     string `json:"mobile,omitempty"`
	// SessionKey is the session_key of the user's last login code (24 bytes, base64).
	SessionKey string `json:"session_key"`
	// Source is "config" or "admin".
	Source string `json:"source"`
	// Created is when the user was created, on the app's clock (zero for a configured user).
	Created time.Time `json:"created,omitzero"`
}

// Guest reports whether the user is not logged in to a Baidu account.
func (u User) Guest() bool { return u.UserType == 1 }

// LoginCode is one code of swan.login, as the store keeps it until it is exchanged.
type LoginCode struct {
	OpenID     string    `json:"open_id"`
	SessionKey string    `json:"session_key"`
	Expires    time.Time `json:"expires"` // on the app's clock
}

// Login is what creating a user, or a fresh code for one, answers: the user, a one-time login
// code, and the user's data encrypted with the session_key the code yields, as the client's
// swan.getUserInfo and getPhoneNumber hand them to the back end.
type Login struct {
	User User `json:"user"`
	// Code is the code of swan.login: exchange it once, within CodeExpiresIn seconds.
	Code          string `json:"code"`
	CodeExpiresIn int    `json:"code_expires_in"`
	// SessionKey is the session_key the code yields.
	SessionKey string `json:"session_key"`
	// UserInfo is {"openid","nickname","headimgurl","sex"} encrypted; PhoneNumber {"mobile"}
	// (absent without a mobile).
	UserInfo    *EncryptedData `json:"user_info"`
	PhoneNumber *EncryptedData `json:"phone_number,omitempty"`
}

// ErrUserExists is returned (wrapped) by CreateUser for an open_id the app has a user of.
var ErrUserExists = errors.New("user exists")

// ErrUnknownUser is returned (wrapped) for an open_id the app has no user of.
var ErrUnknownUser = errors.New("unknown user")

// User returns app's user of openID: the one API the other features read users by.
func (s *Server) User(ctx context.Context, app, openID string) (User, bool, error) {
	r, ok, err := s.store.Record(ctx, app, kindUser, openID)
	if err != nil || !ok {
		return User{}, false, err
	}
	var u User
	if err := json.Unmarshal(r.Data, &u); err != nil {
		return User{}, false, fmt.Errorf("user %q of app %s: %w", openID, app, err)
	}
	return u, true, nil
}

// Users lists app's users with an open_id above after, sorted, at most limit (<= 0: all).
func (s *Server) Users(ctx context.Context, app, after string, limit int) ([]User, error) {
	rs, err := s.store.Records(ctx, app, kindUser, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]User, 0, len(rs))
	for _, r := range rs {
		var u User
		if err := json.Unmarshal(r.Data, &u); err != nil {
			return nil, fmt.Errorf("user %q of app %s: %w", r.ID, app, err)
		}
		out = append(out, u)
	}
	return out, nil
}

// CreateUser creates a user of app from in (config.User: every field optional) and answers a
// login code for it. An open_id the app has a user of already is refused (ErrUserExists).
func (s *Server) CreateUser(ctx context.Context, app string, in config.User) (Login, error) {
	if errs := in.Check("user"); len(errs) > 0 {
		return Login{}, invalid("%s", strings.ReplaceAll(errs.Error(), "\n", "; "))
	}
	a, found, err := s.store.App(ctx, app)
	if err != nil {
		return Login{}, storeFailed(err)
	}
	if !found {
		return Login{}, &Error{Code: ErrNotFound, Message: fmt.Sprintf("unknown app %q", app), Err: store.ErrUnknownApp}
	}
	now, err := store.AppNow(ctx, s.store, a, s.now())
	if err != nil {
		return Login{}, storeFailed(err)
	}
	u := s.newUser(a.ID, in, "admin")
	u.Created = now
	// AddRecord, not a read then a write: of two concurrent creates of one open_id, one wins.
	added, err := s.store.AddRecord(ctx, a.ID, store.Record{Kind: kindUser, ID: u.OpenID, Data: mustJSON(u)})
	if err != nil {
		return Login{}, userStoreError(a.ID, err)
	}
	if !added {
		return Login{}, &Error{Code: ErrInvalid, Message: fmt.Sprintf("open_id %q: app %s has a user of it already (open_ids are unique in an app)", u.OpenID, a.ID), Err: ErrUserExists}
	}
	if err := s.indexOpenID(ctx, u); err != nil {
		// Without its index the user would answer 30022 as nobody's: take it back.
		if _, _, terr := s.store.TakeRecord(ctx, a.ID, kindUser, u.OpenID); terr != nil {
			return Login{}, storeFailed(errors.Join(err, terr))
		}
		return Login{}, userStoreError(a.ID, err)
	}
	return s.issueCode(ctx, a, u, now)
}

// userStoreError is the error of a user the store did not take: an app it does not hold, a
// full store, or a store failure.
func userStoreError(app string, err error) error {
	switch {
	case errors.Is(err, store.ErrUnknownApp):
		return &Error{Code: ErrNotFound, Message: "store: " + err.Error(), Err: err}
	case errors.Is(err, store.ErrRecordsFull):
		return &Error{Code: ErrInvalid, Message: fmt.Sprintf("app %s: no room for another user (%v); reset the app or delete sandbox apps", app, err), Err: err}
	}
	return storeFailed(err)
}

// NewLoginCode gives an existing user a fresh login code (and session_key), as a new swan.login
// does; earlier codes stay valid until used or expired.
func (s *Server) NewLoginCode(ctx context.Context, app, openID string) (Login, error) {
	a, found, err := s.store.App(ctx, app)
	if err != nil {
		return Login{}, storeFailed(err)
	}
	if !found {
		return Login{}, &Error{Code: ErrNotFound, Message: fmt.Sprintf("unknown app %q", app), Err: store.ErrUnknownApp}
	}
	u, ok, err := s.User(ctx, a.ID, openID)
	if err != nil {
		return Login{}, storeFailed(err)
	}
	if !ok {
		return Login{}, &Error{Code: ErrNotFound, Message: fmt.Sprintf("open_id %q: not a user of app %s (create it: POST /__admin/apps/%s/users)", openID, a.ID, a.ID), Err: ErrUnknownUser}
	}
	now, err := store.AppNow(ctx, s.store, a, s.now())
	if err != nil {
		return Login{}, storeFailed(err)
	}
	u.SessionKey = newSessionKey()
	if err := s.putUser(ctx, u); err != nil {
		return Login{}, err
	}
	return s.issueCode(ctx, a, u, now)
}

// issueCode stores a login code of u, valid LoginCodeExpiresIn seconds on the app's clock, and
// encrypts u's data with the session_key it yields.
func (s *Server) issueCode(ctx context.Context, a store.App, u User, now time.Time) (Login, error) {
	code := newLoginCode()
	data, _ := json.Marshal(LoginCode{OpenID: u.OpenID, SessionKey: u.SessionKey, Expires: now.Add(smartappmock.LoginCodeExpiresIn * time.Second)})
	if err := s.store.PutRecord(ctx, a.ID, store.Record{Kind: kindCode, ID: code, Data: data}); err != nil {
		return Login{}, storeFailed(err)
	}
	l := Login{User: u, Code: code, CodeExpiresIn: smartappmock.LoginCodeExpiresIn, SessionKey: u.SessionKey}
	var err error
	if l.UserInfo, err = EncryptUserData(u.SessionKey, appKey(a), userInfoJSON(u)); err != nil {
		return Login{}, &Error{Code: ErrInvalid, Message: err.Error(), Err: err}
	}
	if u.Mobile != "" {
		if l.PhoneNumber, err = EncryptUserData(u.SessionKey, appKey(a), mustJSON(map[string]string{"mobile": u.Mobile})); err != nil {
			return Login{}, &Error{Code: ErrInvalid, Message: err.Error(), Err: err}
		}
	}
	return l, nil
}

// userInfoJSON is the user's data as swan.getUserInfo's encrypted data holds it (Baidu's
// documented fields: openid, nickname, headimgurl, sex).
func userInfoJSON(u User) []byte {
	return mustJSON(struct {
		OpenID     string `json:"openid"`
		Nickname   string `json:"nickname"`
		HeadImgURL string `json:"headimgurl"`
		Sex        int    `json:"sex"`
	}{u.OpenID, u.Nickname, u.HeadImgURL, u.Sex})
}

// appKey is the app key (client_id) the encrypted data ends with: the trailer a back end checks.
func appKey(a store.App) string {
	if a.ClientID != "" {
		return a.ClientID
	}
	return a.ID
}

// putUser stores u and the index of its open_id.
func (s *Server) putUser(ctx context.Context, u User) error {
	if err := s.store.PutRecord(ctx, u.App, store.Record{Kind: kindUser, ID: u.OpenID, Data: mustJSON(u)}); err != nil {
		return userStoreError(u.App, err)
	}
	if err := s.indexOpenID(ctx, u); err != nil {
		return userStoreError(u.App, err)
	}
	return nil
}

// indexOpenID records which app issued u's open_id (a record of no app).
func (s *Server) indexOpenID(ctx context.Context, u User) error {
	return s.store.PutRecord(ctx, store.NoApp, store.Record{Kind: kindOpenID, ID: u.OpenID, Data: mustJSON(openIDIndex{App: u.App})})
}

// openIDIndex is the NoApp record that says which app issued an open_id.
type openIDIndex struct {
	App string `json:"app"`
}

// newUser builds the user of app that in describes. A configured user (source "config") gets a
// session_key derived from its app and open_id, so that every replica seeds the same one.
func (s *Server) newUser(app string, in config.User, source string) User {
	u := User{App: app, OpenID: in.OpenID, UserType: 2, Account: in.Account, Nickname: in.Nickname, HeadImgURL: in.HeadImgURL,
		Sex: in.Sex, Mobile: in.Mobile, Source: source}
	if in.Guest {
		u.UserType = 1
	} else if u.Account == "" {
		u.Account = "account-" + randomHex(6)
	}
	if u.OpenID == "" {
		if in.Guest {
			u.OpenID = derivedID("guest:"+app+":"+randomHex(8), 28)
		} else {
			u.OpenID = derivedID("openid:"+app+":"+u.Account, 28)
		}
	}
	if !in.Guest {
		u.UnionID = derivedID("unionid:"+s.entityOf(app)+":"+u.Account, 23)
	}
	if u.Nickname == "" {
		u.Nickname = "user_" + u.OpenID[:min(6, len(u.OpenID))]
	}
	if source == "config" {
		sum := sha256.Sum256([]byte("session:" + app + ":" + u.OpenID))
		u.SessionKey = base64.StdEncoding.EncodeToString(sum[:24])
	} else {
		u.SessionKey = newSessionKey()
	}
	return u
}

// entityOf is the developer entity of an app: apps[].entity, or the app itself.
func (s *Server) entityOf(app string) string {
	if a, ok := s.apps[app]; ok && a.Entity != "" {
		return "entity:" + a.Entity
	}
	return "app:" + app
}

// derivedID is n characters of Baidu's id alphabet (letters, digits, '-' and '_') derived from seed.
func derivedID(seed string, n int) string {
	sum := sha256.Sum256([]byte("smartappmock:" + seed))
	id := base64.RawURLEncoding.EncodeToString(sum[:])
	return id[:n]
}

// newSessionKey is a fresh session_key: 24 random bytes, 32 base64 characters (an AES-192 key).
func newSessionKey() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// newLoginCode is a code in the shape of Baidu's examples: 32 hex digits and "NW".
func newLoginCode() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:]) + "NW"
}

// seedUsers are the configured users as seed records (with their open_id index).
func (s *Server) seedUsers() []store.SeedRecord {
	var out []store.SeedRecord
	for _, a := range s.cfg.Apps {
		for _, in := range a.Users {
			u := s.newUser(a.ID, in, "config")
			if in.Account == "" && !in.Guest {
				// A configured account gets a name every replica derives alike.
				u.Account = "account-" + derivedID("account:"+a.ID+":"+u.OpenID, 12)
				if in.OpenID == "" {
					u.OpenID = derivedID("openid:"+a.ID+":"+u.Account, 28)
				}
				u.UnionID = derivedID("unionid:"+s.entityOf(a.ID)+":"+u.Account, 23)
			}
			out = append(out,
				store.SeedRecord{App: a.ID, Record: store.Record{Kind: kindUser, ID: u.OpenID, Data: mustJSON(u)}},
				store.SeedRecord{App: store.NoApp, Record: store.Record{Kind: kindOpenID, ID: u.OpenID, Data: mustJSON(openIDIndex{App: a.ID})}})
		}
	}
	return out
}

// takeLoginCode exchanges a login code of app once: the user it was issued to and the
// session_key, or why not (a code taken is gone, expired or not).
func (s *Server) takeLoginCode(ctx context.Context, app string, code string, appNow time.Time) (User, string, string, error) {
	r, ok, err := s.store.TakeRecord(ctx, app, kindCode, code)
	if err != nil {
		return User{}, "", "", err
	}
	if !ok {
		return User{}, "", "code: not a code the fake issued for app " + app + ", or used already (a code works once)", nil
	}
	var lc LoginCode
	if err := json.Unmarshal(r.Data, &lc); err != nil {
		return User{}, "", "", err
	}
	if !appNow.Before(lc.Expires) {
		return User{}, "", "code: expired at " + lc.Expires.Format(time.RFC3339) + " (10 minutes; app clock " + appNow.Format(time.RFC3339) + ")", nil
	}
	u, ok, err := s.User(ctx, app, lc.OpenID)
	if err != nil {
		return User{}, "", "", err
	}
	if !ok {
		return User{}, "", "code: its user " + lc.OpenID + " is gone (a reset?)", nil
	}
	return u, lc.SessionKey, "", nil
}

// openIDCheck is what policy.open_ids says of a send's open_id.
type openIDCheck struct {
	// refused: d is the answer (30022).
	refused bool
	d       Decision
	// warn: the open_id was accepted only because the policy is any.
	warn bool
}

// issuedOpenID checks a send's open_id against the app's users (policy.open_ids): a user of the
// app passes; under issued, another app's user answers 30022 naming that app, and an open_id
// nobody issued 30022 too (Baidu's errno for an OpenID that is not the app's); under any, both
// pass with WarnUnissuedOpenID. One store read for a user of the app, two otherwise.
func (s *Server) issuedOpenID(ctx context.Context, app, openID string) (openIDCheck, error) {
	if openID == "" {
		return openIDCheck{}, nil // refused as a parameter before this step
	}
	_, held, err := s.store.Record(ctx, app, kindUser, openID)
	if err != nil {
		return openIDCheck{}, err
	}
	return s.issuedOpenIDHeld(ctx, app, openID, held)
}

// issuedOpenIDHeld is issuedOpenID once the store said whether app holds a user of openID (a
// send's lookup reads it: store.Store.LookupWith).
func (s *Server) issuedOpenIDHeld(ctx context.Context, app, openID string, held bool) (openIDCheck, error) {
	if openID == "" || held {
		return openIDCheck{}, nil
	}
	if s.cfg.Policy.OpenIDs != config.OpenIDsIssued {
		return openIDCheck{warn: true}, nil
	}
	reason := "open_id: not a user this fake issued for app " + app + " (policy open_ids: issued; create one: POST /__admin/apps/" + app + "/users)"
	if r, ok, err := s.store.Record(ctx, store.NoApp, kindOpenID, openID); err != nil {
		return openIDCheck{}, err
	} else if ok {
		var idx openIDIndex
		if json.Unmarshal(r.Data, &idx) == nil && idx.App != app {
			// The index may outlive its user (a reset): it counts only while the user is there.
			if _, there, err := s.store.Record(ctx, idx.App, kindUser, openID); err != nil {
				return openIDCheck{}, err
			} else if there {
				reason = "open_id: belongs to app " + idx.App + ", another mini program (policy open_ids: issued)"
			}
		}
	}
	return openIDCheck{refused: true, d: business(smartappmock.ErrnoInvalidOpenID, reason)}, nil
}
