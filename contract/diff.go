package contract

import (
	"strconv"

	"github.com/smartappmock/smartappmock/internal/linediff"
	"github.com/smartappmock/smartappmock/internal/spec"
)

// The diffs of findings, in the "-want +got" convention of internal/linediff. The kit does not use
// go-cmp outside tests: it would make the linker keep every exported method in the binary.

// diffLines diffs request lines, each quoted.
func diffLines(want, got []string) string {
	return linediff.Diff(linediff.Quote(want), linediff.Quote(got))
}

// diffOutcome diffs two outcome views field by field, one "Field: value" line each.
func diffOutcome(want, got outcomeView) string {
	return linediff.Diff(want.lines(), got.lines())
}

func (v outcomeView) lines() []string {
	return []string{
		"Delivered: " + strconv.FormatBool(v.Delivered),
		"Code: " + strconv.Quote(v.Code),
		"Crash: " + strconv.Quote(v.Crash),
	}
}

// diffViolations diffs violations, one quoted String() line each.
func diffViolations(want, got []spec.Violation) string {
	return linediff.Diff(violationLines(want), violationLines(got))
}

func violationLines(vs []spec.Violation) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strconv.Quote(v.String())
	}
	return out
}

// diffScalar diffs two values of one line each (linediff.Scalar).
func diffScalar[T ~string | ~int | ~bool](want, got T) string { return linediff.Scalar(want, got) }
