package linediff

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// numbered returns n distinct lines prefix0, prefix1, ...
func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func TestDiff(t *testing.T) {
	split := func(s string) []string { return strings.Fields(s) }
	// Around a shared line "same": 1024*1024 pairs is at the limit and aligned; 1025*1025 is past it.
	atLimitWant := append(numbered("w", 512), append([]string{"same"}, numbered("x", 511)...)...)
	atLimitGot := append(numbered("g", 512), append([]string{"same"}, numbered("h", 511)...)...)
	pastLimitWant := append(atLimitWant, "w-extra")
	pastLimitGot := append(atLimitGot, "g-extra")
	for _, tc := range []struct {
		name      string
		want, got []string
		diff      string
	}{
		{name: "equal", want: split("a b c"), got: split("a b c"), diff: ""},
		{name: "both empty", want: nil, got: []string{}, diff: ""},
		{name: "empty want", want: nil, got: split("a b"), diff: "+ a\n+ b\n"},
		{name: "empty got", want: split("a b"), got: []string{}, diff: "- a\n- b\n"},
		{name: "pure add", want: split("a b c"), got: split("a b X c"), diff: "  a\n  b\n+ X\n  c\n"},
		{name: "add at end", want: split("a"), got: split("a b"), diff: "  a\n+ b\n"},
		{name: "pure remove", want: split("a b c"), got: split("a c"), diff: "  a\n- b\n  c\n"},
		{name: "remove at start", want: split("a b"), got: split("b"), diff: "- a\n  b\n"},
		{name: "change in middle", want: split("a b c"), got: split("a X c"), diff: "  a\n- b\n+ X\n  c\n"},
		{name: "change of several lines", want: split("a b c d"), got: split("a X Y d"), diff: "  a\n- b\n- c\n+ X\n+ Y\n  d\n"},
		{name: "moved line", want: split("a b c"), got: split("b c a"), diff: "- a\n  b\n  c\n+ a\n"},
		{name: "run of 3 kept", want: split("x 1 2 3 y"), got: split("X 1 2 3 Y"),
			diff: "- x\n+ X\n  1\n  2\n  3\n- y\n+ Y\n"},
		{name: "run of 4 collapsed in middle", want: split("x 1 2 3 4 y"), got: split("X 1 2 3 4 Y"),
			diff: "- x\n+ X\n  1\n  ...\n  4\n- y\n+ Y\n"},
		{name: "long runs collapsed at both ends", want: split("1 2 3 4 5 a 6 7 8 9"), got: split("1 2 3 4 5 b 6 7 8 9"),
			diff: "  ...\n  5\n- a\n+ b\n  6\n  ...\n"},
		{name: "run of 3 at start kept", want: split("1 2 3 a"), got: split("1 2 3 b"), diff: "  1\n  2\n  3\n- a\n+ b\n"},
		{name: "run of 4 at start collapsed", want: split("1 2 3 4 a"), got: split("1 2 3 4 b"), diff: "  ...\n  4\n- a\n+ b\n"},
		{name: "at the size limit: aligned", want: atLimitWant, got: atLimitGot,
			diff: lines('-', atLimitWant[:512]) + lines('+', atLimitGot[:512]) + "  same\n" + lines('-', atLimitWant[513:]) + lines('+', atLimitGot[513:])},
		{name: "past the size limit: all removed, then all added", want: pastLimitWant, got: pastLimitGot,
			diff: lines('-', pastLimitWant) + lines('+', pastLimitGot)},
		{name: "common ends do not count toward the limit", want: append(append(numbered("c", 5000), "old"), numbered("d", 5000)...),
			got:  append(append(numbered("c", 5000), "new"), numbered("d", 5000)...),
			diff: "  ...\n  c4999\n- old\n+ new\n  d0\n  ...\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.diff, Diff(tc.want, tc.got)); diff != "" {
				t.Errorf("Diff mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// lines renders ls as diff lines of one kind.
func lines(kind byte, ls []string) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(string(kind) + " " + l + "\n")
	}
	return b.String()
}

// TestAlign checks on random inputs that the alignment rebuilds both sides and keeps a longest
// common subsequence.
func TestAlign(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	gen := func() []string {
		out := make([]string, r.IntN(8))
		for i := range out {
			out[i] = string(rune('a' + r.IntN(3)))
		}
		return out
	}
	for range 2000 {
		want, got := gen(), gen()
		var rebuiltWant, rebuiltGot []string
		common := 0
		for _, o := range align(want, got) {
			if o.kind != '+' {
				rebuiltWant = append(rebuiltWant, o.line)
			}
			if o.kind != '-' {
				rebuiltGot = append(rebuiltGot, o.line)
			}
			if o.kind == ' ' {
				common++
			}
		}
		if diff := cmp.Diff(want, rebuiltWant, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("align(%q, %q): want side mismatch (-want +got):\n%s", want, got, diff)
		}
		if diff := cmp.Diff(got, rebuiltGot, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("align(%q, %q): got side mismatch (-want +got):\n%s", want, got, diff)
		}
		if diff := cmp.Diff(naiveLCS(want, got), common); diff != "" {
			t.Fatalf("align(%q, %q): common lines mismatch (-want +got):\n%s", want, got, diff)
		}
	}
}

// naiveLCS is the length of a longest common subsequence, by plain recursion.
func naiveLCS(a, b []string) int {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if a[0] == b[0] {
		return 1 + naiveLCS(a[1:], b[1:])
	}
	return max(naiveLCS(a[1:], b), naiveLCS(a, b[1:]))
}

func TestQuote(t *testing.T) {
	got := Quote([]string{"plain", "two\nlines", `say "hi"`, ""})
	want := []string{`"plain"`, `"two\nlines"`, `"say \"hi\""`, `""`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Quote mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, Quote(nil)); diff != "" {
		t.Errorf("Quote(nil) mismatch (-want +got):\n%s", diff)
	}
}
