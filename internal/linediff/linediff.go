// Package linediff computes small line diffs in the "-want +got" convention, for failure
// messages of the contract kit. It exists so that non-test code need not link
// github.com/google/go-cmp: go-cmp formats type names with reflect.Type.Method, which makes the
// Go linker keep every exported method of every reachable type and so grows the binary.
package linediff

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// maxCells bounds the alignment work: when the part of want and got that differs (after their
// common first and last lines are set aside) spans more than maxCells pairs of lines, Diff does
// not align it and reports it as all removed, then all added.
const maxCells = 1 << 20

// Diff returns a line diff of want against got, or "" when they are equal. Each line of the
// result ends in "\n" and starts with "- " (the line is only in want), "+ " (only in got) or
// "  " (in both). Lines are aligned by a longest common subsequence; where a line is replaced,
// its removal comes before its addition.
//
// A run of more than 3 unchanged lines is shortened: only the line next to a change on each
// side is kept, and the rest become one "  ..." line. So the result shows 1 line of context
// around each change, and a run at the start or end keeps only the line next to the change.
//
// The work is linear in the common first and last lines and bounded for the rest: if the
// differing middle part has more than 1<<20 pairs of lines (len(want)*len(got) after the
// common ends are set aside), it is not aligned and is shown as every want line removed, then
// every got line added. Lines should not contain "\n"; use Quote for text that might.
func Diff(want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	pre := 0
	for pre < len(want) && pre < len(got) && want[pre] == got[pre] {
		pre++
	}
	suf := 0
	for suf < len(want)-pre && suf < len(got)-pre && want[len(want)-1-suf] == got[len(got)-1-suf] {
		suf++
	}
	var ops []op
	for _, l := range want[:pre] {
		ops = append(ops, op{' ', l})
	}
	ops = append(ops, align(want[pre:len(want)-suf], got[pre:len(got)-suf])...)
	for _, l := range want[len(want)-suf:] {
		ops = append(ops, op{' ', l})
	}
	return render(ops)
}

// op is one line of a diff: kind is '-', '+' or ' '.
type op struct {
	kind byte
	line string
}

// align aligns want and got by a longest common subsequence, or, past maxCells, reports all of
// want removed and all of got added.
func align(want, got []string) []op {
	n, m := len(want), len(got)
	ops := make([]op, 0, n+m)
	if n == 0 || m == 0 || n > maxCells/m {
		for _, l := range want {
			ops = append(ops, op{'-', l})
		}
		for _, l := range got {
			ops = append(ops, op{'+', l})
		}
		return ops
	}
	// lcs[i*(m+1)+j] is the length of a longest common subsequence of want[i:] and got[j:].
	// n*m <= maxCells, so no length exceeds 1<<10 and int32 is ample.
	w := m + 1
	lcs := make([]int32, (n+1)*w)
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			switch {
			case want[i] == got[j]:
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			default:
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case want[i] == got[j]:
			ops = append(ops, op{' ', want[i]})
			i++
			j++
		case lcs[(i+1)*w+j] >= lcs[i*w+j+1]:
			ops = append(ops, op{'-', want[i]})
			i++
		default:
			ops = append(ops, op{'+', got[j]})
			j++
		}
	}
	for ; i < n; i++ {
		ops = append(ops, op{'-', want[i]})
	}
	for ; j < m; j++ {
		ops = append(ops, op{'+', got[j]})
	}
	return ops
}

// maxRun is the longest run of unchanged lines shown in full.
const maxRun = 3

// render writes ops as diff lines, shortening long runs of unchanged lines.
func render(ops []op) string {
	var b strings.Builder
	for k := 0; k < len(ops); {
		if ops[k].kind != ' ' {
			b.WriteByte(ops[k].kind)
			b.WriteByte(' ')
			b.WriteString(ops[k].line)
			b.WriteByte('\n')
			k++
			continue
		}
		end := k
		for end < len(ops) && ops[end].kind == ' ' {
			end++
		}
		run := ops[k:end]
		if len(run) <= maxRun {
			for _, o := range run {
				b.WriteString("  " + o.line + "\n")
			}
		} else {
			if k > 0 {
				b.WriteString("  " + run[0].line + "\n")
			}
			b.WriteString("  ...\n")
			if end < len(ops) {
				b.WriteString("  " + run[len(run)-1].line + "\n")
			}
		}
		k = end
	}
	return b.String()
}

// Quote returns each string of xs as a double-quoted Go string literal (as %q formats it), so
// that every one is a single line and its exact bytes, spaces included, show in a diff.
func Quote(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strconv.Quote(x)
	}
	return out
}

// Scalar diffs two values of one line each: strings quoted, numbers and booleans as Go writes them.
func Scalar[T ~string | ~int | ~bool](want, got T) string {
	return Diff([]string{fmt.Sprintf("%#v", want)}, []string{fmt.Sprintf("%#v", got)})
}
