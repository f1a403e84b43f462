package config

import (
	"fmt"
	"strings"
)

// User is a user of an app that the configuration creates (apps[].users): one who logged in to
// the mini program, with the open_id the fake issued for the app. It is also the input of the
// admin API's POST /__admin/apps/{app}/users. Every field is optional.
type User struct {
	// OpenID is the user's open_id in this app; empty: derived from the app and the account (or
	// random for a guest), in Baidu's shape.
	OpenID string `yaml:"open_id,omitempty" json:"open_id,omitempty"`
	// Guest is a user who is not logged in to a Baidu account (user_type 1): an open_id and a
	// session_key, but no UnionID.
	Guest bool `yaml:"guest,omitempty" json:"guest,omitempty"`
	// Account names the user's Baidu account (not for a guest): the same account in two apps of
	// one entity has the same UnionID. Empty: a new account of its own.
	Account string `yaml:"account,omitempty" json:"account,omitempty"`
	// Nickname, HeadImgURL and Sex (0 unknown, 1 male, 2 female) are what swan.getUserInfo
	// hands out, encrypted.
	Nickname   string `yaml:"nickname,omitempty" json:"nickname,omitempty"`
	HeadImgURL string `yaml:"headimgurl,omitempty" json:"headimgurl,omitempty"`
	Sex        int    `yaml:"sex,omitempty" json:"sex,omitempty"`
	// Mobile is the phone number the getPhoneNumber button hands out, encrypted.
	Mobile string `yaml:"mobile,omitempty" json:"mobile,omitempty"`
}

// OpenIDPolicy says which open_ids a send accepts.
type OpenIDPolicy string

// The open_id policies.
const (
	// OpenIDsAny accepts any open_id (the sandbox), with a warning for one the fake did not issue
	// for the app.
	OpenIDsAny OpenIDPolicy = "any"
	// OpenIDsIssued accepts only the open_ids of the app's users (apps[].users, the admin API):
	// another app's answers 30022, as does one nobody issued.
	OpenIDsIssued OpenIDPolicy = "issued"
)

// MaxUserField is the longest value a user's field takes (bytes).
const MaxUserField = 256

// Check returns the problems of a user, each under path.
func (u User) Check(path string) Errors {
	var errs Errors
	add := func(field, format string, args ...any) {
		errs = append(errs, &Error{Path: path + "." + field, Reason: fmt.Sprintf(format, args...)})
	}
	for field, v := range map[string]string{"open_id": u.OpenID, "account": u.Account, "nickname": u.Nickname, "headimgurl": u.HeadImgURL, "mobile": u.Mobile} {
		if len(v) > MaxUserField {
			add(field, "longer than %d bytes", MaxUserField)
		}
	}
	if strings.ContainsAny(u.OpenID, " /?#%") {
		add("open_id", "must not contain spaces, '/', '?', '#' or '%%'")
	}
	if strings.HasPrefix(u.OpenID, "errno_") || strings.HasPrefix(u.OpenID, "fault_") {
		add("open_id", "%q is a magic value; pick another", u.OpenID)
	}
	if u.Guest && u.Account != "" {
		add("account", "a guest has no Baidu account (drop guest or account)")
	}
	if u.Sex < 0 || u.Sex > 2 {
		add("sex", "must be 0 (unknown), 1 (male) or 2 (female), got %d", u.Sex)
	}
	return errs
}

// validateUsers checks the policy's open_ids and every app's users.
func (c *Config) validateUsers() Errors {
	var errs Errors
	switch c.Policy.OpenIDs {
	case OpenIDsAny, OpenIDsIssued:
	default:
		errs = append(errs, &Error{Path: "policy.open_ids", Reason: fmt.Sprintf("must be %q or %q, got %q", OpenIDsAny, OpenIDsIssued, c.Policy.OpenIDs)})
	}
	for i, a := range c.Apps {
		seen := map[string]int{}
		for k, u := range a.Users {
			p := fmt.Sprintf("apps[%d].users[%d]", i, k)
			errs = append(errs, u.Check(p)...)
			if u.OpenID == "" {
				continue
			}
			if j, dup := seen[u.OpenID]; dup {
				errs = append(errs, &Error{Path: p + ".open_id", Reason: fmt.Sprintf("duplicate open_id %q (also users[%d]): open_ids are unique in an app", u.OpenID, j)})
			}
			seen[u.OpenID] = k
		}
	}
	return errs
}
