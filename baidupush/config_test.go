package baidupush

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v4"
)

func intp(n int) *int { return &n }

func TestConfigValidate_Outcomes(t *testing.T) {
	t.Parallel()
	ok := Config{URL: "http://127.0.0.1:8080/push", Token: "tok"}
	for _, tc := range []struct {
		name    string
		edit    func(*Config)
		wantErr []string // each must appear; none means valid
	}{
		{"ZeroValuePlusURLAndToken_Valid", func(*Config) {}, nil},
		{"SecureWithKeyAndClientID_Valid", func(c *Config) { c.Mode, c.EncodingAESKey, c.ClientID = ModeSecure, testKey, "ck" }, nil},
		{"EverySetting_Valid", func(c *Config) {
			*c = Config{URL: "https://bot.example.com/p?x=1", Token: "t", EncodingAESKey: testKey, Mode: ModeCompatible,
				Format: FormatJSON, Envelope: EnvelopeBody, ClientID: "c", Timeout: Duration(time.Second), Retries: intp(0),
				RetryDelay: Duration(time.Second), Handshake: HandshakeForm, UnsignedPlain: true}
		}, nil},
		{"PlainKeyOptionalButChecked", func(c *Config) { c.EncodingAESKey = "short" }, []string{"encoding_aes_key: 5 characters"}},
		{"URLEmpty", func(c *Config) { c.URL = "" }, []string{"url: empty"}},
		{"URLScheme", func(c *Config) { c.URL = "ftp://x/" }, []string{`url: scheme "ftp"`}},
		{"URLNoHost", func(c *Config) { c.URL = "http:///p" }, []string{"has no host"}},
		{"URLRelative", func(c *Config) { c.URL = "/push" }, []string{`scheme ""`}},
		{"URLPortOutOfRange", func(c *Config) { c.URL = "http://127.0.0.1:70000/" }, []string{`port "70000"`}},
		{"TokenEmpty", func(c *Config) { c.Token = "" }, []string{"token: empty"}},
		{"SecureNeedsKey", func(c *Config) { c.Mode, c.ClientID = ModeSecure, "ck" }, []string{"encoding_aes_key: empty; mode secure"}},
		{"CompatibleNeedsClientID", func(c *Config) { c.Mode, c.EncodingAESKey = ModeCompatible, testKey }, []string{"client_id: empty; mode compatible"}},
		{"SecureBadKeyChar", func(c *Config) { c.Mode, c.ClientID, c.EncodingAESKey = ModeSecure, "ck", testKey[:42]+"/" }, []string{`character 43 is '/'`}},
		{"ModeUnknown", func(c *Config) { c.Mode = "aes" }, []string{`mode: "aes"`}},
		{"FormatUnknown", func(c *Config) { c.Format = "form" }, []string{`format: "form"`}},
		{"EnvelopeUnknown", func(c *Config) { c.Envelope = "header" }, []string{`envelope: "header"`}},
		{"HandshakeUnknown", func(c *Config) { c.Handshake = "get" }, []string{`handshake: "get"`}},
		{"TimeoutNegative", func(c *Config) { c.Timeout = Duration(-time.Second) }, []string{"timeout: -1s"}},
		{"TimeoutTooLong", func(c *Config) { c.Timeout = Duration(2 * time.Minute) }, []string{"timeout: 2m0s"}},
		{"RetryDelayNegative", func(c *Config) { c.RetryDelay = Duration(-1) }, []string{"retry_delay: -1ns"}},
		{"RetriesNegative", func(c *Config) { c.Retries = intp(-1) }, []string{"retries: -1"}},
		{"RetriesTooMany", func(c *Config) { c.Retries = intp(11) }, []string{"retries: 11; want 0 to 10"}},
		{"EveryProblemReported", func(c *Config) { *c = Config{Mode: ModeSecure} }, []string{"url: empty", "token: empty", "encoding_aes_key: empty", "client_id: empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v; want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil; want errors %q", tc.wantErr)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v; want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestConfigWithDefaults_FillsEmptySettings(t *testing.T) {
	t.Parallel()
	got := Config{URL: "http://x/", Token: "t"}.WithDefaults("app-key")
	want := Config{URL: "http://x/", Token: "t", Mode: ModePlain, Format: FormatXML, Envelope: EnvelopeQuery,
		ClientID: "app-key", Timeout: Duration(2 * time.Second), Retries: intp(2), Handshake: HandshakeBoth}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WithDefaults mismatch (-want +got):\n%s", diff)
	}
	if got.Attempts() != 3 {
		t.Errorf("Attempts() = %d; want 3", got.Attempts())
	}
	kept := Config{ClientID: "mine", Retries: intp(0)}.WithDefaults("app-key")
	if kept.ClientID != "mine" || kept.Attempts() != 1 {
		t.Errorf("WithDefaults overrode settings: client_id %q, attempts %d; want mine, 1", kept.ClientID, kept.Attempts())
	}
}

func TestConfig_DecodesIssueNames(t *testing.T) {
	t.Parallel()
	want := Config{URL: "http://127.0.0.1:9/p", Token: "t", EncodingAESKey: testKey, Mode: ModeSecure, Format: FormatJSON,
		ClientID: "ck", Timeout: Duration(1500 * time.Millisecond), Retries: intp(0)}
	const js = `{"url":"http://127.0.0.1:9/p","token":"t","encoding_aes_key":"` + testKey + `","mode":"secure","format":"json","client_id":"ck","timeout":"1.5s","retries":0}`
	var fromJSON Config
	dec := json.NewDecoder(strings.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fromJSON); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if diff := cmp.Diff(want, fromJSON); diff != "" {
		t.Errorf("JSON mismatch (-want +got):\n%s", diff)
	}
	const yml = "url: http://127.0.0.1:9/p\ntoken: t\nencoding_aes_key: " + testKey + "\nmode: secure\nformat: json\nclient_id: ck\ntimeout: 1.5s\nretries: 0\n"
	var fromYAML Config
	if err := yaml.Unmarshal([]byte(yml), &fromYAML); err != nil {
		t.Fatalf("YAML: %v", err)
	}
	if diff := cmp.Diff(want, fromYAML); diff != "" {
		t.Errorf("YAML mismatch (-want +got):\n%s", diff)
	}
}

func TestDuration_Texts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		json    string
		want    time.Duration
		wantErr bool
	}{
		{`"2s"`, 2 * time.Second, false},
		{`"500ms"`, 500 * time.Millisecond, false},
		{`2`, 0, true},   // a number alone has no unit: not 2 ns, not 2 s
		{`"3"`, 0, true}, // nor a string of one
		{`"soon"`, 0, true},
	} {
		var d Duration
		err := json.Unmarshal([]byte(tc.json), &d)
		if (err != nil) != tc.wantErr || time.Duration(d) != tc.want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v, error %v", tc.json, time.Duration(d), err, tc.want, tc.wantErr)
		}
	}
	if b, _ := json.Marshal(Duration(2 * time.Second)); string(b) != `"2s"` {
		t.Errorf(`Marshal(2s) = %s; want "2s"`, b)
	}
}
