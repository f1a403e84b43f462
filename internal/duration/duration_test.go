package duration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParse_Outcomes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text    string
		want    time.Duration
		wantErr string
	}{
		{"48h", 48 * time.Hour, ""},
		{" 90s ", 90 * time.Second, ""},
		{"1.5s", 1500 * time.Millisecond, ""},
		{"0", 0, ""},
		{"48", 0, "duration 48 has no unit: write 48h, 48m or 48s (hours, minutes, seconds)"},
		{"2.5", 0, "duration 2.5 has no unit: write 2.5h, 2.5m or 2.5s (hours, minutes, seconds)"},
		{"soon", 0, `invalid duration "soon" (want e.g. 48h, 30m, 90s)`},
		{"", 0, `invalid duration "" (want e.g. 48h, 30m, 90s)`},
	} {
		got, err := Parse(tc.text)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("Parse(%q) = %v, %v; want error %q", tc.text, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.text, got, err, tc.want)
		}
	}
}

func TestParseJSON_Outcomes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		json    string
		want    time.Duration
		wantErr bool
	}{
		{`"2s"`, 2 * time.Second, false},
		{`"500ms"`, 500 * time.Millisecond, false},
		{`0`, 0, false},
		{`2`, 0, true},   // a number has no unit: not 2 ns, not 2 s
		{`"3"`, 0, true}, // nor a string of a number
		{`"soon"`, 0, true},
	} {
		got, err := ParseJSON([]byte(tc.json))
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseJSON(%s) = %v, %v; want %v, error %v", tc.json, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestDuration_JSONAndYAMLTexts(t *testing.T) {
	t.Parallel()
	var d Duration
	if err := json.Unmarshal([]byte(`{"d":"90s"}`), &struct{ D *Duration }{&d}); err != nil || d != Duration(90*time.Second) {
		t.Errorf(`Unmarshal("90s") = %v, %v; want 1m30s`, d, err)
	}
	if err := json.Unmarshal([]byte(`2`), &d); err == nil || !strings.Contains(err.Error(), "has no unit") {
		t.Errorf("Unmarshal(2) error = %v; want the missing unit named", err)
	}
	if b, err := json.Marshal(Duration(2 * time.Second)); err != nil || string(b) != `"2s"` {
		t.Errorf(`Marshal(2s) = %s, %v; want "2s"`, b, err)
	}
}
