package report_test

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/contract/report"
)

func TestReport_ExitCodeAndJUnit(t *testing.T) {
	t.Parallel()
	rep := &report.Report{Title: "demo", Elapsed: 1500 * time.Millisecond, Results: []report.Result{
		{Case: "a", Grade: report.GradeMust, Status: report.StatusPass, Elapsed: time.Second},
		{Case: "b", Grade: report.GradeShould, Status: report.StatusFail, Reason: "r <&>", Details: "r <&>\n(-want +got):\n- 1\n+ 2"},
		{Case: "c", Grade: report.GradeMust, Status: report.StatusSkip, Reason: "needs faults"},
	}}
	if got := rep.ExitCode(); got != 0 {
		t.Errorf("ExitCode() with only a should-failure = %d; want 0", got)
	}
	var buf bytes.Buffer
	if err := rep.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &parsed); err != nil {
		t.Fatalf("JUnit is not valid XML: %v\n%s", err, buf.String())
	}
	if diff := cmp.Diff([]int{3, 1, 1}, []int{parsed.Tests, parsed.Failures, parsed.Skipped}); diff != "" {
		t.Errorf("tests/failures/skipped mismatch (-want +got):\n%s", diff)
	}
	if got := parsed.Suites[1].Cases[0].Failure; got == nil || got.Message != "r <&>" || !strings.Contains(got.Text, "+ 2") {
		t.Errorf("should failure = %+v; want message and diff", got)
	}
	rep.Results[0].Status = report.StatusFail
	if got := rep.ExitCode(); got != 1 {
		t.Errorf("ExitCode() with a must-failure = %d; want 1", got)
	}
}

func TestResultOf(t *testing.T) {
	t.Parallel()
	head := report.Result{Case: "c", Grade: report.GradeMust, Doc: "d", Status: report.StatusSkip, Reason: "ignored"}
	for _, tc := range []struct {
		name string
		fs   []report.Finding
		want report.Result
	}{
		{name: "NoFindings_Pass", want: report.Result{Case: "c", Grade: report.GradeMust, Doc: "d", Status: report.StatusPass, Elapsed: time.Second}},
		{name: "Findings_FailWithEveryReasonAndDiff",
			fs: []report.Finding{{Reason: "first", Diff: "- 1\n+ 2\n"}, {Reason: "second"}},
			want: report.Result{Case: "c", Grade: report.GradeMust, Doc: "d", Status: report.StatusFail, Elapsed: time.Second,
				Reason: "first", Details: "first\n(-want +got):\n- 1\n+ 2\nsecond"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, report.ResultOf(head, tc.fs, time.Second)); diff != "" {
				t.Errorf("ResultOf() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
