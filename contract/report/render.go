package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// ProgressLine is the line that announces a finished case while a run goes on: done of total
// cases are finished, res is the one that just did ("[3/24] PASS must text_delivered 1.2s").
func ProgressLine(res Result, done, total int) string {
	line := fmt.Sprintf("[%d/%d] %s %s %s %s", done, total, strings.ToUpper(string(res.Status)), res.Grade, res.Case, res.Elapsed.Round(time.Millisecond))
	if res.Status != StatusPass && res.Reason != "" {
		line += ": " + strings.SplitN(res.Reason, "\n", 2)[0]
	}
	return line
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
	if len(r.Warnings) > 0 {
		b.WriteString("\nwarnings: answers Baidu would not have given (X-Smartappmock-Warning; docs/fidelity.md)\n")
		for _, w := range r.Warnings {
			fmt.Fprintf(&b, "  %-20s %4d  %s\n", w.Kind, w.Count, w.Message)
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
