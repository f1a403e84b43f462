package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestProfile: the baidu profile sets every switch of Settings (leniencies off, lenient_json on),
// whether the file or SetProfile (the --profile flag) names it and whatever else the file says;
// the sandbox profile leaves the policy as written.
func TestProfile(t *testing.T) {
	t.Parallel()
	strict := Policy{Apps: AppsConfigured, Tokens: TokensIssued, Window: Window{Mode: WindowRequireUserMessage}, MagicValues: false}
	baidu := strict
	baidu.LenientJSON = true // as Baidu evidently does
	tests := []struct {
		name    string
		cfg     func(t *testing.T) *Config
		want    Policy // the fields a profile may set
		profile Profile
	}{
		{"DefaultIsSandbox_KeepsLeniency", func(*testing.T) *Config { return Default() },
			Policy{Apps: AppsSandbox, Tokens: TokensSandbox, Window: Window{Mode: WindowOpenOnFirstSend}, MagicValues: true, LenientJSON: true}, ProfileSandbox},
		{"SetProfileBaidu_OverridesTheDefault", func(t *testing.T) *Config {
			c := Default()
			if err := c.SetProfile(ProfileBaidu); err != nil {
				t.Fatal(err)
			}
			return c
		}, baidu, ProfileBaidu},
		{"FileProfileBaidu_SetsTheStrictPolicy", func(t *testing.T) *Config {
			c, err := Parse("c.yaml", []byte("version: 1\npolicy:\n  profile: baidu\n  lenient_json: true\n"))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}, baidu, ProfileBaidu},
		{"FileProfileBaidu_WithoutLenientJSON_ReadsJSONLabelledForms", func(t *testing.T) *Config {
			c, err := Parse("c.yaml", []byte("version: 1\npolicy:\n  profile: baidu\n"))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}, baidu, ProfileBaidu},
		{"SetProfileBaidu_OnAFileWithoutLenientJSON", func(t *testing.T) *Config {
			c, err := Parse("c.yaml", []byte("version: 1\napps:\n  - {client_id: k, client_secret: s}\n"))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.SetProfile(ProfileBaidu); err != nil {
				t.Fatal(err)
			}
			return c
		}, baidu, ProfileBaidu},
		{"ZeroConfig_IsSandboxProfileButStrictFields", func(*testing.T) *Config {
			var c Config
			c.Normalize()
			return &c
		}, strict, ProfileSandbox},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.cfg(t)
			got := Policy{Apps: c.Policy.Apps, Tokens: c.Policy.Tokens, Window: Window{Mode: c.Policy.Window.Mode}, MagicValues: c.Policy.MagicValues, LenientJSON: c.Policy.LenientJSON}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("policy mismatch (-want +got):\n%s", diff)
			}
			if c.Policy.Profile != tt.profile {
				t.Errorf("profile = %q, want %q", c.Policy.Profile, tt.profile)
			}
		})
	}
}

func TestProfile_Settings(t *testing.T) {
	t.Parallel()
	want := []string{"policy.apps: configured", "policy.tokens: issued", "policy.window.mode: require_user_message", "policy.magic_values: false", "policy.lenient_json: true", "policy.open_ids: issued", "policy.templates: listed"}
	if diff := cmp.Diff(want, ProfileBaidu.Settings()); diff != "" {
		t.Errorf("ProfileBaidu.Settings() mismatch (-want +got):\n%s", diff)
	}
	if s := ProfileSandbox.Settings(); s != nil {
		t.Errorf("ProfileSandbox.Settings() = %q, want none", s)
	}
	if err := Default().SetProfile("strict"); err == nil || !strings.Contains(err.Error(), `unknown profile "strict" (want sandbox or baidu)`) {
		t.Errorf("SetProfile(strict) = %v", err)
	}
}

// TestParse_FidelitySettingsErrors: the fidelity settings (profile, missing_grant_errno, platforms
// and their grants, fault phases) are checked as strictly as the rest, each error with file:line.
func TestParse_FidelitySettingsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, yaml, want string }{
		{"UnknownProfile", "version: 1\npolicy:\n  profile: prod\n", `c.yaml:3: policy.profile: must be "sandbox" or "baidu", got "prod"`},
		{"ProfileBaiduWithSandboxApps_Conflict", "version: 1\npolicy:\n  profile: baidu\n  apps: sandbox\n  magic_values: true\n",
			"c.yaml:4: policy.apps: is sandbox, but policy.profile baidu sets configured: remove one of them\n" +
				"c.yaml:5: policy.magic_values: is true, but policy.profile baidu sets false: remove one of them"},
		{"ProfileWrongType", "version: 1\npolicy:\n  profile: [baidu]\n", `c.yaml:3: policy.profile: want a string, got a list`},
		{"MissingGrantErrnoNotInCatalogue", "version: 1\npolicy:\n  missing_grant_errno: 4242\n",
			"c.yaml:3: policy.missing_grant_errno: is not in the catalogue of openapi.yaml (errno is one of 0, 3001, 30022, 90001, 90002)"},
		{"MissingGrantErrnoNegative", "version: 1\npolicy:\n  missing_grant_errno: -1\n",
			"c.yaml:3: policy.missing_grant_errno: must be a business errno other than 0, got -1"},
		{"PlatformWithoutTicket", "version: 1\nplatforms:\n  - key: k\n    secret: s\n",
			"c.yaml:3: platforms[0].ticket: required (the ticket the platform gives /public/2.0/smartapp/auth/tp/token)"},
		{"DuplicatePlatform", "version: 1\nplatforms:\n  - {key: k, secret: s, ticket: t}\n  - {key: k, secret: s, ticket: t}\n",
			`c.yaml:4: platforms[1].key: duplicate platform key "k" (also platforms[0])`},
		{"PlatformTypo_SuggestsTheKey", "version: 1\nplatforms:\n  - {key: k, secret: s, tickt: t}\n",
			`c.yaml:3: unknown key "tickt" (did you mean "ticket"?)`},
		{"AppGrantsUnknownPlatform", "version: 1\nplatforms:\n  - {key: k, secret: s, ticket: t}\napps:\n  - client_id: a\n    client_secret: b\n    platforms: [k, x]\n",
			`c.yaml:7: apps[0].platforms[1]: unknown platform "x" (configured: "k")`},
		{"AppGrantsPlatformTwice", "version: 1\nplatforms:\n  - {key: k, secret: s, ticket: t}\napps:\n  - client_id: a\n    client_secret: b\n    platforms: [k, k]\n",
			`c.yaml:7: apps[0].platforms[1]: platform "k" is listed twice`},
		{"FaultBadPhase", "version: 1\nfaults:\n  - kind: http_503\n    phase: during\n",
			`c.yaml:4: faults[0].phase: must be "before" (the request never reached the service) or "after" (its answer was lost), got "during"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("c.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tt.yaml)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFault_PhaseFor: the documented defaults (DefaultFaultPhase), and a phase set on the fault wins for every kind.
func TestFault_PhaseFor(t *testing.T) {
	t.Parallel()
	want := map[FaultKind]string{
		FaultHTTP500: FaultPhaseBefore, FaultHTTP502: FaultPhaseBefore, FaultHTTP503: FaultPhaseBefore, FaultHTTP504: FaultPhaseBefore,
		FaultReset: FaultPhaseBefore, FaultEmpty: FaultPhaseBefore, FaultTimeout: FaultPhaseBefore,
		FaultTruncated: FaultPhaseAfter, FaultMalformed: FaultPhaseAfter, FaultContentType: FaultPhaseAfter, FaultDrip: FaultPhaseAfter,
		"": FaultPhaseAfter, // a latency alone delays an answer the service gave
	}
	for _, k := range FaultKinds() {
		if _, ok := want[k]; !ok {
			t.Errorf("kind %s has no default phase in this test", k)
		}
	}
	for k, phase := range want {
		if got := (Fault{Kind: k}).PhaseFor(k); got != phase {
			t.Errorf("PhaseFor(%q) = %q, want %q", k, got, phase)
		}
		for _, set := range []string{FaultPhaseBefore, FaultPhaseAfter} {
			if got := (Fault{Kind: k, Phase: set}).PhaseFor(k); got != set {
				t.Errorf("with phase %s: PhaseFor(%q) = %q", set, k, got)
			}
		}
	}
}

func TestConfig_Platforms(t *testing.T) {
	t.Parallel()
	c, err := Parse("c.yaml", []byte("version: 1\nplatforms:\n  - {key: k, secret: s, ticket: t}\n  - {key: k2, secret: s, ticket: t}\napps:\n  - client_id: a\n    client_secret: b\n    platforms: [k]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := c.Platform("k"); !ok || p.Ticket != "t" {
		t.Errorf("Platform(k) = %+v, %v", p, ok)
	}
	if _, ok := c.Platform("nope"); ok {
		t.Error("Platform(nope) found")
	}
	if !c.Apps[0].GrantsPlatform("k") || c.Apps[0].GrantsPlatform("k2") {
		t.Errorf("GrantsPlatform: app grants %q", c.Apps[0].Platforms)
	}
	if c.Policy.MissingGrantErrno != 90002 {
		t.Errorf("MissingGrantErrno = %d, want the default 90002", c.Policy.MissingGrantErrno)
	}
}

func TestConfig_Redacted_HidesSecretsAndTickets(t *testing.T) {
	t.Parallel()
	c, err := Parse("c.yaml", []byte("version: 1\nplatforms:\n  - {key: k, secret: tp-secret, ticket: tp-ticket}\napps:\n  - {client_id: a, client_secret: app-secret, tokens: [fixed]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Redacted()
	want := []any{"<redacted>", 0, "<redacted>", "<redacted>", "k"}
	got := []any{r.Apps[0].ClientSecret, len(r.Apps[0].Tokens), r.Platforms[0].Secret, r.Platforms[0].Ticket, r.Platforms[0].Key}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Redacted mismatch (-want +got):\n%s", diff)
	}
	if c.Apps[0].ClientSecret != "app-secret" || c.Platforms[0].Ticket != "tp-ticket" {
		t.Error("Redacted changed the original")
	}
}
