// Package config is the one format that configures the fake: the YAML (or JSON) file, the embedded
// default, the admin API's rule updates and test fixtures all go through Parse. Decoding is strict:
// an unknown key or a bad value is an error that names the file, the line and the reason.
package config

import (
	_ "embed"
	"fmt"
	"time"

	"github.com/smartappmock/smartappmock/internal/duration"
)

// Version is the only configuration format version this build understands.
const Version = 1

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default configuration file, as `smartappmock config default`
// prints it.
func DefaultYAML() []byte {
	out := make([]byte, len(defaultYAML))
	copy(out, defaultYAML)
	return out
}

// Default returns the parsed embedded default: sandbox apps and tokens, a window opened on the
// first send, magic values on.
func Default() *Config {
	c, err := Parse("default.yaml", defaultYAML)
	if err != nil {
		panic("config: embedded default is invalid: " + err.Error()) // a build defect, caught by tests
	}
	return c
}

// Config is the whole configuration of the fake. Its zero value, after Normalize, is a strict fake
// with no apps.
type Config struct {
	// Version must be 1.
	Version int `yaml:"version" json:"version"`
	// Apps are the mini programs the fake knows.
	Apps []App `yaml:"apps" json:"apps"`
	// Policy says how the fake treats unknown clients and tokens, and the window rules.
	Policy Policy `yaml:"policy" json:"policy"`
	// Rules force answers for matching requests.
	Rules []Rule `yaml:"rules" json:"rules"`
	// Faults inject network failures into the answers of matching sends (see Fault).
	Faults []Fault `yaml:"faults,omitempty" json:"faults,omitempty"`
	// Platforms are the third-party platforms (第三方平台) the fake knows: they get platform
	// tokens (42.) and, for the apps that authorized them, authorizer tokens (45.) for sendbytp.
	Platforms []Platform `yaml:"platforms,omitempty" json:"platforms,omitempty"`
	// ContentChecks are the word lists of the content checks (nil: DefaultContentChecks).
	ContentChecks *ContentChecks `yaml:"content_checks,omitempty" json:"content_checks,omitempty"`
}

// Platform is one third-party platform: its key, secret and the ticket Baidu pushes to it.
type Platform struct {
	// Key is the platform's client_id, given to /public/2.0/smartapp/auth/tp/token.
	Key string `yaml:"key" json:"key"`
	// Secret is the platform's secret. Baidu's token endpoint does not take it (Baidu's SDKs send
	// client_id and ticket only); when a client sends client_secret anyway, it must match.
	Secret string `yaml:"secret" json:"secret"`
	// Ticket is the component ticket Baidu would push to the platform every 10 minutes; here it
	// is fixed, and the token endpoint accepts only it.
	Ticket string `yaml:"ticket" json:"ticket"`
	// Push, when set, is where the fake pushes the platform its ticket (on a schedule and on
	// demand) and the authorization events (on demand): see PlatformPush.
	Push *PlatformPush `yaml:"push,omitempty" json:"push,omitempty"`
}

// App is one mini program (tenant): its credentials, capability, users and limits.
type App struct {
	// ID is the app id; it ends every token issued to the app (`…282335-<id>`) and names the app in
	// the admin API.
	ID string `yaml:"id" json:"id"`
	// ClientID is the App Key given to /oauth/2.0/token.
	ClientID string `yaml:"client_id" json:"client_id"`
	// ClientSecret is the App Secret.
	ClientSecret string `yaml:"client_secret" json:"client_secret"`
	// Capability says whether customer service is on (default true); off answers errno 90002.
	Capability *bool `yaml:"capability,omitempty" json:"capability,omitempty"`
	// OpenIDs, when not empty, are the only open_ids of this app; any other answers errno 30022.
	OpenIDs []string `yaml:"open_ids,omitempty" json:"open_ids,omitempty"`
	// ForeignOpenIDs belong to another mini program and answer errno 30022.
	ForeignOpenIDs []string `yaml:"foreign_open_ids,omitempty" json:"foreign_open_ids,omitempty"`
	// UserMessages are open_ids that wrote to customer service when the fake started (their windows
	// are open).
	UserMessages []string `yaml:"user_messages,omitempty" json:"user_messages,omitempty"`
	// Tokens are fixed access tokens that belong to this app and never expire, handy in tests.
	Tokens []string `yaml:"tokens,omitempty" json:"tokens,omitempty"`
	// Limits are the app's gateway request limits; zero fields take Policy.Limits.
	Limits Limits `yaml:"limits,omitempty" json:"limits,omitzero"`
	// Faults inject network failures into this app's sends, before the top-level faults.
	Faults []Fault `yaml:"faults,omitempty" json:"faults,omitempty"`
	// Push, when set, is where and how the fake pushes what users write to the app's bot (push.go).
	Push *Push `yaml:"push,omitempty" json:"push,omitempty"`
	// Platforms are the keys of the third-party platforms this app granted its customer-service
	// permission: their sendbytp sends for this app are served; a configured platform missing
	// here answers Policy.MissingGrantErrno (90002).
	Platforms []string `yaml:"platforms,omitempty" json:"platforms,omitempty"`
	// Entity is the developer entity (主体) the app belongs to: a Baidu account's UnionID is the
	// same in every app of one entity. Empty: the app is an entity of its own.
	Entity string `yaml:"entity,omitempty" json:"entity,omitempty"`
	// Users are users who logged in to the app (users.go): sends to them pass policy.open_ids
	// issued, and the admin API gives them login codes.
	Users []User `yaml:"users,omitempty" json:"users,omitempty"`
	// Templates, when not empty, are the app's only template ids (subscribe and template
	// messages); any other answers errno 4001. Empty: none, or any with a warning under
	// policy.templates: any.
	Templates []string `yaml:"templates,omitempty" json:"templates,omitempty"`
	// Subscriptions are consents the app's users gave before the fake started.
	Subscriptions []Subscription `yaml:"subscriptions,omitempty" json:"subscriptions,omitempty"`
	// ContentChecks override the top-level word lists for this app, list by list.
	ContentChecks *ContentChecks `yaml:"content_checks,omitempty" json:"content_checks,omitempty"`
}

// GrantsPlatform reports whether the app granted the platform its customer-service permission.
func (a App) GrantsPlatform(key string) bool {
	for _, k := range a.Platforms {
		if k == key {
			return true
		}
	}
	return false
}

// Platform returns the configured platform of a key.
func (c *Config) Platform(key string) (Platform, bool) {
	for _, p := range c.Platforms {
		if p.Key == key {
			return p, true
		}
	}
	return Platform{}, false
}

// CapabilityOn reports whether the app's customer-service capability is on.
func (a App) CapabilityOn() bool { return a.Capability == nil || *a.Capability }

// Limits are request limits at the gateway layer. Zero means unlimited.
type Limits struct {
	// Daily is how many send requests an app may make per day of its clock (error_code 17).
	Daily int `yaml:"daily,omitempty" json:"daily,omitempty"`
	// QPS is how many send requests an app may make in one second of its clock (error_code 18).
	QPS int `yaml:"qps,omitempty" json:"qps,omitempty"`
}

// Policy holds the behaviour switches of the fake.
type Policy struct {
	// Profile is ProfileSandbox (the default: the fields below apply as written) or ProfileBaidu
	// (no leniency: Normalize sets apps configured, tokens issued, window require_user_message,
	// magic values off and lenient_json on, whatever the fields say).
	Profile Profile `yaml:"profile,omitempty" json:"profile,omitempty"`
	// Apps is AppsConfigured (only configured client_ids get tokens) or AppsSandbox (any client_id
	// gets tokens and becomes its own app; its first secret is kept).
	Apps AppPolicy `yaml:"apps" json:"apps"`
	// Tokens is TokensIssued (only issued or configured tokens) or TokensSandbox (any other non-empty
	// token is its own app).
	Tokens TokenPolicy `yaml:"tokens" json:"tokens"`
	// Window is the customer-service window rule.
	Window Window `yaml:"window" json:"window"`
	// MagicValues turns on open_id errno_<N> and access_token error_code_<N>.
	MagicValues bool `yaml:"magic_values" json:"magic_values"`
	// LenientJSON reads a urlencoded body sent under Content-Type application/json (off: such a
	// body is ignored, as a JSON body is not a source of parameters).
	LenientJSON bool `yaml:"lenient_json" json:"lenient_json"`
	// JournalCap is how many journal entries are kept per app (default 1000); older ones are dropped
	// and counted.
	JournalCap int `yaml:"journal_cap" json:"journal_cap"`
	// Limits are the default request limits of every app.
	Limits Limits `yaml:"limits,omitempty" json:"limits,omitzero"`
	// MissingGrantErrno is the business errno of a sendbytp send by a configured platform the app
	// did not grant its customer-service permission (default 90002; Baidu does not document it).
	MissingGrantErrno int `yaml:"missing_grant_errno,omitempty" json:"missing_grant_errno,omitempty"`
	// OpenIDs is OpenIDsAny (default: any open_id, with a warning for one the fake did not issue)
	// or OpenIDsIssued (only the app's users; users.go).
	OpenIDs OpenIDPolicy `yaml:"open_ids,omitempty" json:"open_ids,omitempty"`
	// Templates says which template ids an app has (subscribe and template messages): listed
	// (apps[].templates; others answer errno 4001) or any (an app that lists none takes any, with
	// a warning).
	Templates TemplatePolicy `yaml:"templates,omitempty" json:"templates,omitempty"`
}

// TemplatePolicy says which template ids an app that lists none has.
type TemplatePolicy string

// Template policies.
const (
	// TemplatesListed: an app has the template ids of apps[].templates, and no other.
	TemplatesListed TemplatePolicy = "listed"
	// TemplatesAny: an app that lists no templates takes any template id, with a warning.
	TemplatesAny TemplatePolicy = "any"
)

// Profile is a named set of policy settings.
type Profile string

// Profiles.
const (
	// ProfileSandbox applies the policy as written: the embedded default is a zero-setup sandbox,
	// and every leniency it allows is marked by a warning on the answer.
	ProfileSandbox Profile = "sandbox"
	// ProfileBaidu turns every leniency off: configured apps only, issued tokens only, a window
	// only after a user message, magic values off; and it reads a form labelled JSON, as Baidu
	// evidently does. Every switch it sets is set whatever the file says.
	ProfileBaidu Profile = "baidu"
)

// Profiles returns the profiles, the default first.
func Profiles() []Profile { return []Profile{ProfileSandbox, ProfileBaidu} }

// Known reports whether p names a profile ("" is the default).
func (p Profile) Known() bool { return p == "" || p == ProfileSandbox || p == ProfileBaidu }

// Settings lists what the profile sets, one "key: value" a line, as `config check` and the docs
// print it; the sandbox profile sets nothing.
func (p Profile) Settings() []string {
	if p != ProfileBaidu {
		return nil
	}
	return []string{
		"policy.apps: " + string(AppsConfigured),
		"policy.tokens: " + string(TokensIssued),
		"policy.window.mode: " + string(WindowRequireUserMessage),
		"policy.magic_values: false",
		"policy.lenient_json: true",
		"policy.open_ids: " + string(OpenIDsIssued),
		"policy.templates: " + string(TemplatesListed),
	}
}

// apply sets the policy fields the profile fixes.
func (p Profile) apply(pol *Policy) {
	if p != ProfileBaidu {
		return
	}
	pol.Apps = AppsConfigured
	pol.Tokens = TokensIssued
	pol.Window.Mode = WindowRequireUserMessage
	pol.MagicValues = false
	pol.OpenIDs = OpenIDsIssued
	// Baidu evidently reads a form labelled JSON (docs/fidelity.md): the profile reads it too, so
	// a client gets the same answer whether or not the file says lenient_json.
	pol.LenientJSON = true
	pol.Templates = TemplatesListed
}

// SetProfile switches the configuration to a profile (the --profile flag, SMARTAPPMOCK_PROFILE)
// and applies it: under ProfileBaidu the leniencies of the file are off.
func (c *Config) SetProfile(p Profile) error {
	if p == "" || !p.Known() {
		return fmt.Errorf("unknown profile %q (want %s or %s)", p, ProfileSandbox, ProfileBaidu)
	}
	c.Policy.Profile = p
	c.Normalize()
	return nil
}

// AppPolicy says which clients get tokens.
type AppPolicy string

// App policies.
const (
	AppsConfigured AppPolicy = "configured"
	AppsSandbox    AppPolicy = "sandbox"
)

// TokenPolicy says which tokens are accepted.
type TokenPolicy string

// Token policies.
const (
	TokensIssued  TokenPolicy = "issued"
	TokensSandbox TokenPolicy = "sandbox"
)

// WindowMode says how a customer-service window opens.
type WindowMode string

// Window modes.
const (
	// WindowRequireUserMessage opens a window only when the user writes (admin API or config); a
	// send without one answers 90001, as the real service is believed to do.
	WindowRequireUserMessage WindowMode = "require_user_message"
	// WindowOpenOnFirstSend opens a window on the first send to a user with none (or an expired one).
	WindowOpenOnFirstSend WindowMode = "open_on_first_send"
)

// Window is the rule of the customer-service window: MaxReplies sends within Duration after the
// user's last message.
type Window struct {
	// Mode is WindowRequireUserMessage or WindowOpenOnFirstSend.
	Mode WindowMode `yaml:"mode" json:"mode"`
	// Duration is how long a window stays open (default 48h).
	Duration Duration `yaml:"duration" json:"duration"`
	// MaxReplies is how many sends a window allows (default 5).
	MaxReplies int `yaml:"max_replies" json:"max_replies"`
}

// Rule forces an answer for requests that match it.
type Rule struct {
	// Name describes the rule in the journal and the reason header.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Match selects requests; empty fields match anything.
	Match Match `yaml:"match" json:"match"`
	// Answer is the code to answer.
	Answer Answer `yaml:"answer" json:"answer"`
	// Times limits the rule to its first N matches; 0 means every match.
	Times int `yaml:"times,omitempty" json:"times,omitempty"`
}

// Match selects send requests. Every non-empty field must equal the request's value.
type Match struct {
	App             string `yaml:"app,omitempty" json:"app,omitempty"`
	Token           string `yaml:"token,omitempty" json:"token,omitempty"`
	OpenID          string `yaml:"open_id,omitempty" json:"open_id,omitempty"`
	MsgType         string `yaml:"msg_type,omitempty" json:"msg_type,omitempty"`
	Content         string `yaml:"content,omitempty" json:"content,omitempty"`
	ContentContains string `yaml:"content_contains,omitempty" json:"content_contains,omitempty"`
}

// Answer is a forced answer: exactly one of Errno (business layer) and ErrorCode (gateway layer).
type Answer struct {
	Errno     *int `yaml:"errno,omitempty" json:"errno,omitempty"`
	ErrorCode *int `yaml:"error_code,omitempty" json:"error_code,omitempty"`
}

// Duration is a time.Duration written with its unit, "48h", "30m" or "90s", in the file and the
// admin API: a number alone is refused with the fix (is 48 hours, minutes or seconds?). Its rule
// lives in internal/duration, which the duration flags and the admin API's clock read too.
type Duration = duration.Duration

// Normalize fills defaults: version 1, policy defaults, window 48h / 5 replies, journal cap 1000,
// missing-grant errno 90002, app ids from client ids; then applies the profile (ProfileBaidu sets
// the fields of Profile.Settings).
func (c *Config) Normalize() {
	if c.Version == 0 {
		c.Version = Version
	}
	if c.Policy.Profile == "" {
		c.Policy.Profile = ProfileSandbox
	}
	if c.Policy.MissingGrantErrno == 0 {
		c.Policy.MissingGrantErrno = 90002
	}
	if c.Policy.Apps == "" {
		c.Policy.Apps = AppsConfigured
	}
	if c.Policy.Tokens == "" {
		c.Policy.Tokens = TokensIssued
	}
	if c.Policy.Window.Mode == "" {
		c.Policy.Window.Mode = WindowRequireUserMessage
	}
	if c.Policy.Window.Duration == 0 {
		c.Policy.Window.Duration = Duration(48 * time.Hour)
	}
	if c.Policy.Window.MaxReplies == 0 {
		c.Policy.Window.MaxReplies = 5
	}
	if c.Policy.OpenIDs == "" {
		c.Policy.OpenIDs = OpenIDsAny
	}
	if c.Policy.JournalCap == 0 {
		c.Policy.JournalCap = 1000
	}
	if c.Policy.Templates == "" {
		c.Policy.Templates = TemplatesListed
	}
	for i := range c.Apps {
		if c.Apps[i].ID == "" {
			c.Apps[i].ID = c.Apps[i].ClientID
		}
	}
	c.Policy.Profile.apply(&c.Policy)
}

// AppLimits returns an app's limits, each zero field taken from the policy.
func (c *Config) AppLimits(a App) Limits {
	l := a.Limits
	if l.Daily == 0 {
		l.Daily = c.Policy.Limits.Daily
	}
	if l.QPS == 0 {
		l.QPS = c.Policy.Limits.QPS
	}
	return l
}

// Redacted returns a copy of the configuration fit to show (the admin API's GET /__admin/config):
// app secrets and platform secrets and tickets replaced by "<redacted>", fixed tokens left out.
func (c *Config) Redacted() *Config {
	out := *c
	out.Apps = make([]App, len(c.Apps))
	for i, a := range c.Apps {
		a.ClientSecret = "<redacted>"
		a.Tokens = nil
		if a.Push != nil {
			p := a.Push.Redacted()
			a.Push = &p
		}
		out.Apps[i] = a
	}
	out.Platforms = make([]Platform, len(c.Platforms))
	for i, p := range c.Platforms {
		p.Secret, p.Ticket = "<redacted>", "<redacted>"
		if p.Push != nil {
			pp := p.Push.Redacted()
			p.Push = &pp
		}
		out.Platforms[i] = p
	}
	if len(out.Platforms) == 0 {
		out.Platforms = nil
	}
	return &out
}
