package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse_Faults(t *testing.T) {
	t.Parallel()
	data := `version: 1
apps:
  - id: "1001"
    client_id: a
    client_secret: b
    faults:
      - kind: http_503
        times: 2
faults:
  - name: flaky
    match: {open_id: u1}
    kind: reset
    probability: 0.05
    seed: 42
  - sequence: [http_503, none, truncated]
    latency: 100ms-2s
  - latency: 250ms
  - kind: drip
    drip_interval: 20ms
    drip_bytes: 4
    skip: 3
`
	got, err := Parse("faults.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	wantApp := []Fault{{Kind: FaultHTTP503, Times: 2}}
	if diff := cmp.Diff(wantApp, got.Apps[0].Faults); diff != "" {
		t.Errorf("app faults mismatch (-want +got):\n%s", diff)
	}
	want := []Fault{
		{Name: "flaky", Match: Match{OpenID: "u1"}, Kind: FaultReset, Probability: 0.05, Seed: 42},
		{Sequence: []FaultKind{FaultHTTP503, FaultNone, FaultTruncated}, Latency: LatencyRange{100 * time.Millisecond, 2 * time.Second}},
		{Latency: LatencyRange{250 * time.Millisecond, 250 * time.Millisecond}},
		{Kind: FaultDrip, DripInterval: Duration(20 * time.Millisecond), DripBytes: 4, Skip: 3},
	}
	if diff := cmp.Diff(want, got.Faults); diff != "" {
		t.Errorf("faults mismatch (-want +got):\n%s", diff)
	}
}

func TestParse_FaultErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, want string
	}{
		{"UnknownKind", "version: 1\nfaults:\n  - kind: http_418\n",
			`bad.yaml:3: faults[0].kind: unknown fault kind "http_418" (want one of http_500, http_502, http_503, http_504, reset, empty, truncated, malformed, content_type, drip, timeout)`},
		{"NothingToDo", "version: 1\nfaults:\n  - match: {open_id: u}\n", "bad.yaml:3: faults[0]: needs kind, sequence or latency"},
		{"KindAndSequence", "version: 1\nfaults:\n  - kind: reset\n    sequence: [reset]\n", "bad.yaml:3: faults[0]: takes kind or sequence, not both"},
		{"BadStep", "version: 1\nfaults:\n  - sequence: [none, boom]\n",
			`bad.yaml:3: faults[0].sequence[1]: unknown fault kind "boom" (want none or one of http_500, http_502, http_503, http_504, reset, empty, truncated, malformed, content_type, drip, timeout)`},
		{"NoneAsKind", "version: 1\nfaults:\n  - kind: none\n", `bad.yaml:3: faults[0].kind: unknown fault kind "none" (want one of http_500, http_502, http_503, http_504, reset, empty, truncated, malformed, content_type, drip, timeout)`},
		{"Percent", "version: 1\nfaults:\n  - kind: reset\n    probability: 5\n", "bad.yaml:4: faults[0].probability: must be between 0 and 1 (0.05 is 5%), got 5"},
		{"BackwardRange", "version: 1\nfaults:\n  - latency: 2s-1s\n", "bad.yaml:3: faults[0].latency: must be a positive duration or a range low-high with low <= high"},
		{"BadLatency", "version: 1\nfaults:\n  - latency: soon\n", `bad.yaml:3: faults[0].latency: invalid latency "soon" (want e.g. 200ms or a range 100ms-2s)`},
		{"LatencyWithoutUnit", "version: 1\nfaults:\n  - latency: 2\n", `bad.yaml:3: faults[0].latency: invalid latency "2": duration 2 has no unit: write 2h, 2m or 2s (hours, minutes, seconds)`},
		{"TooSlow", "version: 1\nfaults:\n  - latency: 1h\n", "bad.yaml:3: faults[0].latency: must be at most 10m0s"},
		{"Typo", "version: 1\nfaults:\n  - kind: reset\n    probabilty: 0.5\n", `bad.yaml:4: unknown key "probabilty" (did you mean "probability"?)`},
		{"AppFaultForOtherApp", "version: 1\napps:\n  - id: x\n    client_id: a\n    client_secret: b\n    faults:\n      - kind: reset\n        match: {app: y}\n",
			`bad.yaml:8: apps[0].faults[0].match.app: is "y" inside app "x": an app's faults apply to that app only`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("bad.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tc.yaml)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseFaults_AdminDocument(t *testing.T) {
	t.Parallel()
	got, err := ParseFaults("request body", []byte(`{"faults":[{"kind":"http_503","times":2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Fault{{Kind: FaultHTTP503, Times: 2}}, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if _, err := ParseFaults("request body", []byte(`{"faults":[{"kind":"explode"}]}`)); err == nil {
		t.Error("ParseFaults accepted an unknown kind")
	}
	if _, err := ParseFaults("request body", []byte(`{"faultz":[]}`)); err == nil {
		t.Error("ParseFaults accepted an unknown key")
	}
}

func TestLatencyRange_TextRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"200ms", "100ms-2s", "1m0s"} {
		var l LatencyRange
		if err := l.UnmarshalText([]byte(s)); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		b, _ := l.MarshalText()
		var l2 LatencyRange
		if err := l2.UnmarshalText(b); err != nil || l2 != l {
			t.Errorf("%s -> %s -> %v (%v)", s, b, l2, err)
		}
	}
}
