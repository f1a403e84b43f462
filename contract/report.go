package contract

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
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

// Report is the outcome of a suite or Verify run.
type Report struct {
	// Title names what was checked, e.g. the client command.
	Title string
	// Results are in catalogue order.
	Results []Result
	// Elapsed is the wall time of the whole run.
	Elapsed time.Duration
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

// ResultOf is the Result of case c: a pass without findings; a failure whose Reason is the first
// finding and whose Details hold every finding with its diff.
func ResultOf(c Case, fs []Finding, elapsed time.Duration) Result {
	res := Result{Case: c.Name, Grade: c.Grade, Doc: c.Doc, Status: StatusPass, Elapsed: elapsed}
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

// WriteText writes the readable summary: one line per case, the reasons and diffs of failures,
// and the totals.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "smartappmock contract: %s\n", r.Title)
	width := 0
	for _, res := range r.Results {
		width = max(width, len(res.Case))
	}
	for _, res := range r.Results {
		fmt.Fprintf(&b, "  %-4s  %-6s  %-*s  %s\n", strings.ToUpper(string(res.Status)), res.Grade, width, res.Case, res.Elapsed.Round(time.Millisecond))
		if res.Status == StatusSkip {
			fmt.Fprintf(&b, "        skipped: %s\n", res.Reason)
		}
	}
	counts := map[Grade]map[Status]int{GradeMust: {}, GradeShould: {}}
	for _, res := range r.Results {
		counts[res.Grade][res.Status]++
	}
	for _, res := range r.Results {
		if res.Status != StatusFail {
			continue
		}
		fmt.Fprintf(&b, "\n--- FAIL %s (%s): %s\n", res.Case, res.Grade, res.Doc)
		for _, l := range strings.Split(res.Details, "\n") {
			fmt.Fprintf(&b, "    %s\n", l)
		}
	}
	fmt.Fprintf(&b, "\nmust: %d passed, %d failed, %d skipped; should: %d passed, %d failed, %d skipped; %s\n",
		counts[GradeMust][StatusPass], counts[GradeMust][StatusFail], counts[GradeMust][StatusSkip],
		counts[GradeShould][StatusPass], counts[GradeShould][StatusFail], counts[GradeShould][StatusSkip],
		r.Elapsed.Round(time.Millisecond))
	if r.Passed() {
		b.WriteString("PASS: every must-case passed\n")
	} else {
		fmt.Fprintf(&b, "FAIL: must-cases failed: %s\n", strings.Join(r.Failed(GradeMust), ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the report as JUnit XML: one testsuite per grade ("contract.must",
// "contract.should"), one testcase per case, a failure element with the reason and diffs.
func (r *Report) WriteJUnit(w io.Writer) error {
	out := junitSuites{Name: "smartappmock contract: " + r.Title, Time: seconds(r.Elapsed)}
	for _, g := range []Grade{GradeMust, GradeShould} {
		s := junitSuite{Name: "contract." + string(g)}
		var total time.Duration
		for _, res := range r.Results {
			if res.Grade != g {
				continue
			}
			jc := junitCase{Name: res.Case, Classname: "contract." + string(g), Time: seconds(res.Elapsed), SystemOut: res.Doc}
			switch res.Status {
			case StatusFail:
				jc.Failure = &junitMessage{Message: res.Reason, Type: string(g), Text: res.Details}
				s.Failures++
			case StatusSkip:
				jc.Skipped = &junitMessage{Message: res.Reason}
				s.Skipped++
			}
			total += res.Elapsed
			s.Tests++
			s.Cases = append(s.Cases, jc)
		}
		s.Time = seconds(total)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
