package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/config"
)

const platformApp = `version: 1
platforms:
  - key: tp-key
    secret: s
    ticket: t
    push:
`

func TestParse_PlatformPush(t *testing.T) {
	t.Parallel()
	const key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	for _, tc := range []struct {
		name      string
		push      string // the lines under push:, indented by 6
		wantErr   string // part of the error; "" for none
		wantEvery time.Duration
	}{
		{"Defaults_TenMinutes", "url: http://127.0.0.1:8082/\ntoken: t\nencoding_aes_key: " + key, "", 10 * time.Minute},
		{"Every30s_OK", "url: http://127.0.0.1:8082/\ntoken: t\nencoding_aes_key: " + key + "\nticket_every: 30s", "", 30 * time.Second},
		{"ScheduleOff_Zero", "url: http://127.0.0.1:8082/\ntoken: t\nencoding_aes_key: " + key + "\nno_ticket_schedule: true", "", 0},
		{"NoKey_Error", "url: http://x/\ntoken: t", "platforms[0].push.encoding_aes_key: required: the platform's 43-character message key", 0},
		{"ShortKey_Error", "url: http://x/\ntoken: t\nencoding_aes_key: abc", "platforms[0].push.encoding_aes_key: 3 characters", 0},
		{"NoURL_Error", "token: t\nencoding_aes_key: " + key, "platforms[0].push.url: empty", 0},
		{"EveryTooShort_Error", "url: http://x/\ntoken: t\nencoding_aes_key: " + key + "\nticket_every: 10ms", "platforms[0].push.ticket_every: 10ms; want at least 1s", 0},
		{"UnknownKey_Error", "url: http://x/\ntoken: t\nencoding_aes_key: " + key + "\nevery: 1m", `unknown key "every"`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			b.WriteString(platformApp)
			for _, l := range strings.Split(tc.push, "\n") {
				b.WriteString("      " + l + "\n")
			}
			c, err := config.Parse("platform.yaml", []byte(b.String()))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Parse error %v; want one containing %q", err, tc.wantErr)
			case tc.wantErr != "":
				return
			}
			p := c.Platforms[0].Push
			if got := p.Every(); got != tc.wantEvery {
				t.Errorf("Every() = %s; want %s", got, tc.wantEvery)
			}
			if r := c.Redacted().Platforms[0].Push; r.Token != "<redacted>" || r.EncodingAESKey != "<redacted>" || p.Token != "t" {
				t.Errorf("Redacted push %+v (original token %q); want token and key hidden, the original untouched", r, p.Token)
			}
		})
	}
}
