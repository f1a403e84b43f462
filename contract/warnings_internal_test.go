package contract

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/contract/report"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// TestCheckWarnings: each distinct warning the client's requests got is one should-finding, "would
// fail against Baidu: …", with the first request that got it; warnings of the kit's own set-up
// (rules, magic values, sandbox apps and platforms) are not the client's.
func TestCheckWarnings(t *testing.T) {
	t.Parallel()
	entry := func(kinds ...mockserver.WarningKind) *store.Entry {
		e := &store.Entry{}
		for _, k := range kinds {
			e.Warnings = append(e.Warnings, k.Warning())
		}
		return e
	}
	send := func(msg int, e *store.Entry) exchange {
		return exchange{Endpoint: "send", Method: "POST", Target: "/rest/2.0/smartapp/message/custom/send", Message: msg, Entry: e}
	}
	trials := []*trial{
		{c: Case{Name: "text_delivered"}, ex: []exchange{
			send(0, entry(mockserver.WarnRule, mockserver.WarnUnconfiguredClient)),
			send(0, entry(mockserver.WarnLenientJSON)),
			{Endpoint: "send", Fault: FaultHTTP503},
		}},
		{c: Case{Name: "image_delivered"}, ex: []exchange{
			send(0, entry(mockserver.WarnLenientJSON, mockserver.WarnUnissuedToken, mockserver.WarnSandboxPlatform)),
		}},
	}
	j := &judge{}
	checkWarnings(j, trials)
	var got []string
	for _, f := range j.findings {
		got = append(got, f.Reason)
	}
	want := []string{
		"would fail against Baidu: " + mockserver.WarnLenientJSON.Message() + " (first in text_delivered, message 1, request 2 (POST /rest/2.0/smartapp/message/custom/send))",
		"would fail against Baidu: " + mockserver.WarnUnissuedToken.Message() + " (first in image_delivered, message 1, request 1 (POST /rest/2.0/smartapp/message/custom/send))",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings mismatch (-want +got):\n%s", diff)
	}
	res := report.ResultOf(Case{Name: "no_sandbox_warnings", Grade: report.GradeShould}.head(), j.findings, 0)
	if res.Status != report.StatusFail || !strings.Contains(res.Details, "would fail against Baidu") {
		t.Errorf("result = %+v", res)
	}

	// The report lists every warning of the client's requests with its count, kit's own left out.
	rep := &report.Report{}
	addWarnings(rep, trials)
	wantWarnings := []report.Warning{
		{Kind: string(mockserver.WarnLenientJSON), Message: mockserver.WarnLenientJSON.Message(), Count: 2},
		{Kind: string(mockserver.WarnUnissuedToken), Message: mockserver.WarnUnissuedToken.Message(), Count: 1},
	}
	if diff := cmp.Diff(wantWarnings, rep.Warnings); diff != "" {
		t.Errorf("report warnings mismatch (-want +got):\n%s", diff)
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "warnings: answers Baidu would not have given") || !strings.Contains(text.String(), "  lenient_json            2  body: ") {
		t.Errorf("report text lacks the warnings:\n%s", text.String())
	}
}
