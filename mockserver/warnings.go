package mockserver

import "github.com/smartappmock/smartappmock/store"

// WarningKind names one way an answer of the fake differs from what the real service would answer:
// a sandbox leniency, a magic value or a rule. Every warning goes, as its fixed sentence, into one
// X-Smartappmock-Warning header value of the answer and into the journal entry's Warnings; /metrics
// counts them by kind and the contract kit reports each distinct one. The body never changes.
type WarningKind string

// The warning kinds, each with the sentence of its Message. docs/fidelity.md lists them all.
const (
	// WarnUnissuedToken: an access_token this fake never issued was accepted as its own sandbox
	// app (policy.tokens: sandbox).
	WarnUnissuedToken WarningKind = "unissued_token"
	// WarnUnconfiguredClient: a token was issued to, or a send accepted from, a client_id that is
	// not a configured app (policy.apps: sandbox).
	WarnUnconfiguredClient WarningKind = "unconfigured_client"
	// WarnOpenOnFirstSend: a reply was accepted because this send opened the window, with no
	// message from the user (policy.window.mode: open_on_first_send).
	WarnOpenOnFirstSend WarningKind = "open_on_first_send"
	// WarnLenientJSON: the parameters were read from a urlencoded body labelled
	// application/json (policy.lenient_json: true).
	WarnLenientJSON WarningKind = "lenient_json"
	// WarnMagicValue: the answer was forced by a magic access_token or open_id
	// (policy.magic_values: true).
	WarnMagicValue WarningKind = "magic_value"
	// WarnRule: the answer was forced by a rule of the configuration or the admin API.
	WarnRule WarningKind = "rule"
	// WarnSandboxPlatform: a third-party platform key that is not configured was accepted, or
	// its authorizer token used (policy.apps: sandbox).
	WarnSandboxPlatform WarningKind = "sandbox_platform"
	// WarnUnissuedOpenID: a reply went to an open_id that is not a user the fake issued for the
	// app (policy.open_ids: any).
	WarnUnissuedOpenID WarningKind = "unissued_open_id"
	// WarnUnlistedTemplate: a subscribe or template message (or a consent) named a template id
	// of an app that lists no templates (apps[].templates), and any was accepted (policy.templates:
	// any).
	WarnUnlistedTemplate WarningKind = "unlisted_template"
)

// warningMessages are the sentences of the kinds: short, printable ASCII (they go in a header),
// each saying what Baidu would do instead. None contains the word "success".
var warningMessages = map[WarningKind]string{
	WarnUnissuedToken:      "access_token: not issued by this fake; Baidu answers 110",
	WarnUnconfiguredClient: "client_id: not a configured app; Baidu refuses its token request (invalid_client)",
	WarnOpenOnFirstSend:    "window: opened by this send, the user never wrote; Baidu answers 90001",
	WarnLenientJSON:        "body: a form labelled application/json, read only because lenient_json is on; Baidu may ignore it (3001)",
	WarnMagicValue:         "magic value: the answer was forced; Baidu treats the value as an ordinary one",
	WarnRule:               "rule: the answer was forced by a rule; Baidu decides by the request alone",
	WarnSandboxPlatform:    "platform: not a configured third-party platform; Baidu refuses its key",
	WarnUnissuedOpenID:     "open_id: not a user this fake issued for the app; Baidu answers 30022",
	WarnUnlistedTemplate:   "template_id: the app lists no templates, so any is accepted; Baidu answers 4001 for a template the app did not add",
}

// WarningKinds returns every kind, in documentation order.
func WarningKinds() []WarningKind {
	return []WarningKind{WarnUnissuedToken, WarnUnconfiguredClient, WarnOpenOnFirstSend, WarnLenientJSON,
		WarnMagicValue, WarnRule, WarnSandboxPlatform, WarnUnissuedOpenID, WarnUnlistedTemplate}
}

// Message returns the sentence of the kind, as the header and the journal carry it.
func (k WarningKind) Message() string { return warningMessages[k] }

// Warning returns the kind as a journal warning.
func (k WarningKind) Warning() store.Warning {
	return store.Warning{Kind: string(k), Message: k.Message()}
}

// warningFixes are the settings that give Baidu's answer instead of each kind's, and whether
// --profile baidu sets it (docs/fidelity.md).
var warningFixes = map[WarningKind]struct {
	setting string
	profile bool
}{
	WarnUnissuedToken:      {"policy.tokens: issued", true},
	WarnUnconfiguredClient: {"policy.apps: configured", true},
	WarnOpenOnFirstSend:    {"policy.window.mode: require_user_message", true},
	WarnLenientJSON:        {"policy.lenient_json: false (under the sandbox profile; --profile baidu keeps it on)", false},
	WarnMagicValue:         {"policy.magic_values: false", true},
	WarnRule:               {"remove the rule", false},
	WarnSandboxPlatform:    {"policy.apps: configured", true},
	WarnUnissuedOpenID:     {"policy.open_ids: issued", true},
	WarnUnlistedTemplate:   {"policy.templates: listed (and the app's apps[].templates)", true},
}

// Fix returns the setting that makes the fake answer as Baidu would instead, and whether
// --profile baidu sets it. lenient_json is the one leniency the profile keeps: the evidence says
// Baidu reads such a form.
func (k WarningKind) Fix() (setting string, byProfile bool) {
	f := warningFixes[k]
	return f.setting, f.profile
}

// Lenient reports whether the kind marks an answer that only the sandbox's leniency gave (a
// token, an app, a window or a body Baidu would refuse), rather than one forced on purpose (a
// magic value, a rule).
func (k WarningKind) Lenient() bool { return k != WarnMagicValue && k != WarnRule }
