package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

func TestParseFull(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("full.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Version: 1,
		Policy: Policy{
			Profile: ProfileSandbox, Apps: AppsConfigured, Tokens: TokensIssued,
			Window:      Window{Mode: WindowRequireUserMessage, Duration: Duration(48 * time.Hour), MaxReplies: 5},
			LenientJSON: true, JournalCap: 200, Limits: Limits{Daily: 1000, QPS: 10}, MissingGrantErrno: 90002, OpenIDs: OpenIDsAny, Templates: TemplatesListed,
		},
		Platforms: []Platform{{Key: "tp-key", Secret: "tp-secret", Ticket: "tp-ticket"}},
		Apps: []App{{
			ID: "1001", ClientID: "key-a", ClientSecret: "secret-a", Capability: ptr(true),
			OpenIDs: []string{"u1", "u2"}, ForeignOpenIDs: []string{"other"}, UserMessages: []string{"u1"},
			Tokens: []string{"fixed-token"}, Limits: Limits{Daily: 5}, Platforms: []string{"tp-key"},
			Faults: []Fault{{Kind: FaultTruncated, Phase: FaultPhaseBefore}},
		}},
		Rules: []Rule{
			{Name: "quota for u2", Match: Match{App: "1001", OpenID: "u2", MsgType: "text", ContentContains: "promo"}, Answer: Answer{Errno: ptr(90001)}, Times: 2},
			{Match: Match{Token: "fixed-token", Content: "exact"}, Answer: Answer{ErrorCode: ptr(18)}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
	if l := got.AppLimits(got.Apps[0]); l != (Limits{Daily: 5, QPS: 10}) {
		t.Errorf("AppLimits = %+v, want daily from the app and qps from the policy", l)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // the whole error text: file, line, path, reason
	}{
		{"UnknownTopKey", "version: 1\npolcy: {}\n", `bad.yaml:2: unknown key "polcy" (did you mean "policy"?)`},
		{"UnknownNestedKey", "version: 1\napps:\n  - client_id: a\n    client_secrt: b\n", `bad.yaml:4: unknown key "client_secrt" (did you mean "client_secret"?)`},
		{"MissingVersion", "apps: []\n", "bad.yaml:1: version: required: add `version: 1`"},
		{"FutureVersion", "version: 2\n", "bad.yaml:1: version: unsupported version 2 (this build reads version 1)"},
		{"BadPolicy", "version: 1\npolicy:\n  apps: everyone\n", `bad.yaml:3: policy.apps: must be "configured" or "sandbox", got "everyone"`},
		{"BadWindowMode", "version: 1\npolicy:\n  window:\n    mode: always\n", `bad.yaml:4: policy.window.mode: must be "require_user_message" or "open_on_first_send", got "always"`},
		{"BadDuration", "version: 1\npolicy:\n  window:\n    duration: two days\n", `invalid duration "two days"`},
		{"WrongType", "version: 1\npolicy:\n  journal_cap: lots\n", "bad.yaml:3:"},
		{"MissingSecret", "version: 1\napps:\n  - client_id: a\n", "bad.yaml:3: apps[0].client_secret: required"},
		{"DuplicateClient", "version: 1\napps:\n  - {client_id: a, client_secret: s}\n  - {client_id: a, client_secret: t}\n", `bad.yaml:4: apps[1].client_id: duplicate client_id "a" (also apps[0])`},
		{"NegativeLimit", "version: 1\napps:\n  - client_id: a\n    client_secret: s\n    limits:\n      qps: -1\n", "bad.yaml:6: apps[0].limits.qps: must not be negative"},
		{"RuleWithoutAnswer", "version: 1\nrules:\n  - match: {open_id: x}\n", "bad.yaml:3: rules[0].answer: needs errno (business layer) or error_code (gateway layer)"},
		{"RuleWithBothAnswers", "version: 1\nrules:\n  - answer: {errno: 3001, error_code: 110}\n", "rules[0].answer: takes errno or error_code, not both"},
		{"RuleBadMsgType", "version: 1\nrules:\n  - match: {msg_type: voice}\n    answer: {errno: 3001}\n", `bad.yaml:3: rules[0].match.msg_type: must be text or image, got "voice"`},
		{"NotYAML", "version: [1\n", "bad.yaml:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T is not Errors: %v", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseJSON(t *testing.T) {
	c, err := Parse("c.json", []byte(`{"version":1,"policy":{"apps":"sandbox"},"apps":[{"client_id":"a","client_secret":"s"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.Apps != AppsSandbox || c.Apps[0].ID != "a" || c.Policy.Window.MaxReplies != 5 {
		t.Errorf("config = %+v", c)
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if c.Policy.Apps != AppsSandbox || c.Policy.Tokens != TokensSandbox || c.Policy.Window.Mode != WindowOpenOnFirstSend || !c.Policy.MagicValues {
		t.Errorf("default policy = %+v, want sandbox apps and tokens, open on first send, magic values", c.Policy)
	}
	if c.Policy.Profile != ProfileSandbox || !c.Policy.LenientJSON {
		t.Errorf("default policy = %+v, want the sandbox profile and lenient_json on (forms labelled JSON are read, with a warning)", c.Policy)
	}
	if time.Duration(c.Policy.Window.Duration) != 48*time.Hour || c.Policy.Window.MaxReplies != 5 {
		t.Errorf("default window = %+v, want 48h and 5 replies", c.Policy.Window)
	}
	if string(DefaultYAML()) != string(defaultYAML) {
		t.Error("DefaultYAML differs from the embedded file")
	}
}

func TestParseRules(t *testing.T) {
	rules, err := ParseRules("body", []byte(`{"rules":[{"match":{"open_id":"x"},"answer":{"errno":90002},"times":1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{{Match: Match{OpenID: "x"}, Answer: Answer{Errno: ptr(90002)}, Times: 1}}
	if diff := cmp.Diff(want, rules); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ParseRules("body", []byte(`{"rules":[{"times":-1,"answer":{"errno":1}}]}`)); err == nil || !strings.Contains(err.Error(), "body:1: rules[0].times: must not be negative") {
		t.Errorf("negative times: %v", err)
	}
}

func ExampleParse() {
	c, err := Parse("smartappmock.yaml", []byte(`
version: 1
policy:
  apps: configured
apps:
  - id: "1001"
    client_id: my-key
    client_secret: my-secret
    capability: false
`))
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Apps[0].ID, c.Apps[0].CapabilityOn(), c.Policy.Window.Mode, c.Policy.Window.Duration)
	// Output: 1001 false require_user_message 48h0m0s
}

func ExampleParse_error() {
	_, err := Parse("smartappmock.yaml", []byte("version: 1\napps:\n  - client_id: k\n    secret: s\n"))
	fmt.Println(err)
	// Output:
	// smartappmock.yaml:3: apps[0].client_secret: required
	// smartappmock.yaml:4: unknown key "secret"
}

// TestParse_StrictSettings: every problem of a file comes in one run, each with file:line, in the
// format's words; a .json file is strict JSON; a duration needs its unit; a rule code must be in
// the catalogue, which the error lists.
func TestParse_StrictSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, data string
		want             string // the whole error text
	}{
		{"DurationWithoutUnit_SaysTheFix", "c.yaml", "version: 1\npolicy:\n  window:\n    duration: 48\n",
			"c.yaml:4: policy.window.duration: duration 48 has no unit: write 48h, 48m or 48s (hours, minutes, seconds)"},
		{"DripIntervalWithoutUnit_SaysTheFix", "c.yaml", "version: 1\nfaults:\n  - {kind: drip, drip_interval: 5}\n",
			"c.yaml:3: faults[0].drip_interval: duration 5 has no unit: write 5h, 5m or 5s (hours, minutes, seconds)"},
		{"DurationInJSONWithoutUnit_SaysTheFix", "c.json", "{\"version\": 1, \"policy\": {\"window\": {\"duration\": 48}}}\n",
			"c.json:1: policy.window.duration: duration 48 has no unit: write 48h, 48m or 48s (hours, minutes, seconds)"},
		{"DurationAList_WantsADuration", "c.yaml", "version: 1\npolicy:\n  window: {duration: [48h]}\n",
			"c.yaml:3: policy.window.duration: want a duration such as 48h, got a list"},
		{"JSONTrailingComma_IsAnError", "c.json", "{\n  \"version\": 1,\n  \"rules\": [],\n}\n",
			"c.json:4: invalid JSON: invalid character '}' looking for beginning of object key string (a trailing comma? JSON allows none)"},
		{"JSONComment_IsAnError", "c.json", "{\"version\": 1} # strict\n",
			"c.json:1: invalid JSON: invalid character '#' looking for beginning of value (JSON has no comments: write the file as .yaml to keep them)"},
		{"JSONCut_IsAnError", "c.json", "{\"version\": 1,\n",
			"c.json:2: invalid JSON: unexpected end of the file"},
		{"YAMLFlowTrailingComma_IsYAML", "c.yaml", "{version: 1, policy: {apps: opn},}\n",
			`c.yaml:1: policy.apps: must be "configured" or "sandbox", got "opn"`},
		{"EveryProblemInOneRun", "c.yaml", "version: 1\npolicy:\n  magic_values: maybe\n  journal_cap: lots\n  apps: open\nappz: []\nrules:\n  - answer: {errno: 4242}\n",
			"c.yaml:3: policy.magic_values: want true or false, got \"maybe\"\n" +
				"c.yaml:4: policy.journal_cap: want a whole number, got \"lots\"\n" +
				"c.yaml:5: policy.apps: must be \"configured\" or \"sandbox\", got \"open\"\n" +
				"c.yaml:6: unknown key \"appz\" (did you mean \"apps\"?)\n" +
				"c.yaml:8: rules[0].answer.errno: 4242 is not in the catalogue of openapi.yaml (errno is one of 0, 3001, 30022, 90001, 90002)"},
		{"GatewayCodeNotInCatalogue_ListsTheCodes", "c.yaml", "version: 1\nrules:\n  - answer: {error_code: 7}\n",
			"c.yaml:3: rules[0].answer.error_code: 7 is not in the catalogue of openapi.yaml (error_code is one of 1, 2, 3, 4, 6, 17, 18, 100, 110, 111)"},
		{"WrongShape_NoGoTypes", "c.yaml", "version: 1\npolicy: [sandbox]\n",
			"c.yaml:2: policy: want a mapping (key: value), got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tt.file, []byte(tt.data))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tt.data)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseRules_NotADocument: the admin API's body errors say what was expected, in the format's
// words, not Go's types.
func TestParseRules_NotADocument(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body, want string }{
		{"PlainText", "not json", `request body:1: want a mapping (key: value), got "not json"`},
		{"RulesNotAList", `{"rules": {"answer": {"errno": 0}}}`, "request body:1: rules: want a list, got a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseRules("request body", []byte(tt.body))
			if err == nil {
				t.Fatalf("ParseRules accepted %q", tt.body)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body, want string }{
		{"OneObject_OK", `{"rules": []}`, ""},
		{"TrailingComma_Line", "{\"rules\": [\n  {\"answer\": {\"errno\": 0}},\n]}", "request body:3: invalid JSON: invalid character ']' looking for beginning of value (a trailing comma? JSON allows none)"},
		{"TwoValues_Refused", `{} {}`, "request body:1: invalid JSON: more than one value (the file must hold one object)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ""
			if err := CheckJSON("request body", []byte(tt.body)); err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CheckJSON mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
