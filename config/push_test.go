package config_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
)

const pushApp = `version: 1
apps:
  - id: shop
    client_id: shop-key
    client_secret: s
    push:
`

func TestParse_Push(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		push    string // the lines under push:, indented by 6
		wantErr string // part of the error; "" for none
	}{
		{"PlainDefaults_OK", "url: http://127.0.0.1:8081/\ntoken: t", ""},
		{"SecureWithKeyAndFaults_OK", "url: http://127.0.0.1:8081/\ntoken: t\nmode: secure\nformat: json\nencoding_aes_key: abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\ntimeout: 500ms\nretries: 0\nfaults:\n  - kind: duplicate\n  - kind: delay\n    delay: 1s", ""},
		{"SecureWithoutKey_Error", "url: http://x/\ntoken: t\nmode: secure", "apps[0].push.encoding_aes_key: empty; mode secure needs the 43-character key"},
		{"KeyOf42_Error", "url: http://x/\ntoken: t\nencoding_aes_key: abcdefghijklmnopqrstuvwxyz0123456789ABCDEF", "apps[0].push.encoding_aes_key"},
		{"NoURL_Error", "token: t", "apps[0].push.url: empty"},
		{"UnknownMode_Error", "url: http://x/\ntoken: t\nmode: strict", `apps[0].push.mode: "strict"`},
		{"UnknownKey_Error", "url: http://x/\ntoken: t\ntokne: u", `unknown key "tokne"`},
		{"DelayWithoutDuration_Error", "url: http://x/\ntoken: t\nfaults:\n  - kind: delay", "apps[0].push.faults[0].delay: must be above 0"},
		{"NegativeTimes_Error", "url: http://x/\ntoken: t\nfaults:\n  - kind: duplicate\n    times: -1", "apps[0].push.faults[0]: skip and times must not be negative"},
		{"UnknownFault_Error", "url: http://x/\ntoken: t\nfaults:\n  - kind: drop", `apps[0].push.faults[0].kind: "drop" is not a push fault`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			b.WriteString(pushApp)
			for _, l := range strings.Split(tc.push, "\n") {
				b.WriteString("      " + l + "\n")
			}
			c, err := config.Parse("push.yaml", []byte(b.String()))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Parse error = %v; want one containing %q", err, tc.wantErr)
			case tc.wantErr == "" && c.Apps[0].Push == nil:
				t.Fatal("apps[0].push is nil")
			}
		})
	}
}

func TestPushOptions_NameTheFaults(t *testing.T) {
	t.Parallel()
	faults := []config.PushFault{{Kind: config.PushFaultDuplicate}, {Kind: config.PushFaultWrongSignature}, {Kind: config.PushFaultDelay, Delay: config.Duration(1)}}
	opts := config.PushOptions(faults)
	// The options are push's: a delivery to nowhere names them in Result.Faults.
	res := baidupush.Deliver(t.Context(), nil, baidupush.Config{URL: "http://127.0.0.1:1/", Token: "t"}, baidupush.Message{}, opts...)
	if diff := cmp.Diff([]string{baidupush.FaultDuplicate, baidupush.FaultWrongSignature, baidupush.FaultDelay}, res.Faults); diff != "" {
		t.Errorf("faults mismatch (-want +got):\n%s", diff)
	}
}
