package mockserver

import (
	"strings"
	"testing"
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
		})
	}
	if len(warningMessages) != len(WarningKinds()) {
		t.Errorf("%d messages for %d kinds", len(warningMessages), len(WarningKinds()))
	}
}
