package contract

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/internal/spec"
)

// TestDiffFormats pins the exact diffs under "(-want +got):" in a report.
func TestDiffFormats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{
			name: "outcome: only the differing field",
			got:  diffOutcome(outcomeView{Delivered: false, Code: "3001"}, outcomeView{Delivered: true, Code: "3001"}),
			want: "- Delivered: false\n+ Delivered: true\n  Code: \"3001\"\n  Crash: \"\"\n",
		},
		{
			name: "outcome: a crash, quoted",
			got:  diffOutcome(outcomeView{Code: "(not named)"}, outcomeView{Code: "(not named)", Crash: "exit status 2\npanic"}),
			want: "  Delivered: false\n  Code: \"(not named)\"\n- Crash: \"\"\n+ Crash: \"exit status 2\\npanic\"\n",
		},
		{
			name: "request lines, quoted",
			got: diffLines([]string{"POST /send -> gateway 110", "POST /send -> business 0"},
				[]string{"POST /send -> gateway 110", "POST /send -> gateway 110", "POST /send -> gateway 110"}),
			want: "  \"POST /send -> gateway 110\"\n- \"POST /send -> business 0\"\n+ \"POST /send -> gateway 110\"\n+ \"POST /send -> gateway 110\"\n",
		},
		{
			name: "violations, one String line each",
			got: diffViolations(nil, []spec.Violation{
				{Where: "body", Field: "open_id", Reason: "required but missing"},
				{Where: "request", Reason: "GET /x is not an operation of openapi.yaml"},
			}),
			want: "+ \"open_id: required but missing\"\n+ \"request: GET /x is not an operation of openapi.yaml\"\n",
		},
		{name: "int", got: diffScalar(200, 503), want: "- 200\n+ 503\n"},
		{name: "bool", got: diffScalar(true, false), want: "- true\n+ false\n"},
		{name: "string", got: diffScalar("business 0", "gateway 110"), want: "- \"business 0\"\n+ \"gateway 110\"\n"},
		{name: "equal", got: diffScalar("a", "a"), want: ""},
	} {
		if diff := cmp.Diff(tc.want, tc.got); diff != "" {
			t.Errorf("%s: diff mismatch (-want +got):\n%s", tc.name, diff)
		}
	}
}
