package report

import (
	"strings"
	"time"
)

// Grade says how much a case matters.
type Grade string

// The grades of a case.
const (
	// GradeMust is what Baidu requires: failing it loses messages or breaks the API's rules. A
	// report fails (exit status 1) when a must-case fails.
	GradeMust Grade = "must"
	// GradeShould is good practice (e.g. token reuse and refresh, naming the code seen): reported,
	// but it does not fail a run unless the run is strict.
	GradeShould Grade = "should"
)

// Status is the result of one case.
type Status string

// The statuses of a case.
const (
	StatusPass Status = "pass"
	StatusFail Status = "fail"
	StatusSkip Status = "skip"
)

// Result is one case's verdict.
type Result struct {
	// Case is the case name, Grade its grade and Doc its one-sentence description.
	Case  string
	Grade Grade
	Doc   string
	// Status is pass, fail or skip.
	Status Status
	// Reason is the first reason of a failure (or why the case was skipped).
	Reason string
	// Details holds every reason, each followed by its line diff (-want +got) when there is one.
	Details string
	// Elapsed is how long the case took.
	Elapsed time.Duration
}

// Report is the outcome of one run of a kit: the client suite, verify or the webhook kit.
type Report struct {
	// Title names what was checked, e.g. the client command.
	Title string
	// Results are in catalogue order.
	Results []Result
	// Elapsed is the wall time of the whole run.
	Elapsed time.Duration
	// Warnings are the distinct X-Smartappmock-Warning kinds the fake gave the requests of the
	// thing checked (not those the kit's own set-up causes), with how many answers carried each:
	// answers Baidu would not have given.
	Warnings []Warning
}

// Warning is one kind of warning of a run and how many answers carried it.
type Warning struct {
	Kind    string
	Message string
	Count   int
}

// AddWarning counts one answer with the warning kind (message is its sentence), keeping the
// order in which kinds were first seen.
func (r *Report) AddWarning(kind, message string) {
	for i := range r.Warnings {
		if r.Warnings[i].Kind == kind {
			r.Warnings[i].Count++
			return
		}
	}
	r.Warnings = append(r.Warnings, Warning{Kind: kind, Message: message, Count: 1})
}

// Passed reports whether every must-case passed (skipped cases do not count).
func (r *Report) Passed() bool {
	for _, res := range r.Results {
		if res.Grade == GradeMust && res.Status == StatusFail {
			return false
		}
	}
	return true
}

// ExitCode is 0 when every must-case passed and 1 otherwise.
func (r *Report) ExitCode() int {
	if r.Passed() {
		return 0
	}
	return 1
}

// Failed returns the names of the failed cases of a grade ("" for every grade).
func (r *Report) Failed(g Grade) []string {
	var out []string
	for _, res := range r.Results {
		if res.Status == StatusFail && (g == "" || res.Grade == g) {
			out = append(out, res.Case)
		}
	}
	return out
}

// Progress is told of each case as it finishes: the result, how many cases are done (this one
// included) and how many the run has. The kits call it from one goroutine at a time.
type Progress func(res Result, done, total int)

// Finding is one reason a case failed: the reason, and a line diff in the -want +got convention.
type Finding struct {
	Reason string
	Diff   string
}

// ResultOf is the result of the case that head names (its Case, Grade and Doc): a pass without
// findings; a failure whose Reason is the first finding and whose Details hold every finding with
// its diff.
func ResultOf(head Result, fs []Finding, elapsed time.Duration) Result {
	res := Result{Case: head.Case, Grade: head.Grade, Doc: head.Doc, Status: StatusPass, Elapsed: elapsed}
	if len(fs) == 0 {
		return res
	}
	res.Status = StatusFail
	res.Reason = fs[0].Reason
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(f.Reason)
		if f.Diff != "" {
			b.WriteString("\n(-want +got):\n")
			b.WriteString(strings.TrimRight(f.Diff, "\n"))
		}
	}
	res.Details = b.String()
	return res
}
