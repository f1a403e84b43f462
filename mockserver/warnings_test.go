package mockserver

import (
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock/mockserver/params"
)

func TestWarningKinds(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, k := range WarningKinds() {
		t.Run(string(k), func(t *testing.T) {
			msg := k.Message()
			switch {
			case msg == "":
				t.Fatalf("%s has no message", k)
			case HeaderSafe(msg) != msg:
				t.Errorf("%s: message %q does not fit a header as it is", k, msg)
			case strings.Contains(strings.ToLower(msg), "success"):
				t.Errorf("%s: message %q contains the word success", k, msg)
			case seen[msg]:
				t.Errorf("%s: message %q is another kind's too", k, msg)
			}
			seen[msg] = true
			if w := k.Warning(); w.Kind != string(k) || w.Message != msg {
				t.Errorf("%s.Warning() = %+v", k, w)
			}
			if setting, _ := k.Fix(); setting == "" {
				t.Errorf("%s has no Fix", k)
			}
		})
	}
	if len(warningMessages) != len(WarningKinds()) {
		t.Errorf("%d messages for %d kinds", len(warningMessages), len(WarningKinds()))
	}
}

// TestParams_Warnings: only a form labelled JSON, read thanks to lenient_json, warns.
func TestParams_Warnings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, contentType, body string
		lenient                 bool
		want                    int
	}{
		{"FormLabelledJSON_Lenient_Warns", "application/json", "open_id=u", true, 1},
		{"FormLabelledJSON_Strict_NoWarning", "application/json", "open_id=u", false, 0},
		{"RealJSON_Lenient_NoWarning", "application/json", `{"open_id":"u"}`, true, 0},
		{"EmptyJSON_Lenient_NoWarning", "application/json", "", true, 0},
		{"Form_NoWarning", "application/x-www-form-urlencoded", "open_id=u", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := 0
			if params.Parse("", tt.contentType, []byte(tt.body), tt.lenient).LenientJSON() {
				got = 1 // the send's decision then warns WarnLenientJSON (decideSend)
			}
			if got != tt.want {
				t.Errorf("lenient_json warnings = %d, want %d", got, tt.want)
			}
		})
	}
}
