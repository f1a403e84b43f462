package testenv

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that records Skip and Fatal instead of stopping a goroutine.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Skip(args ...any)                  { r.skipped = fmt.Sprint(args...) }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestRequire(t *testing.T) {
	tests := []struct {
		name                 string
		ci                   string
		short                bool
		program              string
		wantSkip, wantFailed string
		wantPath             bool
	}{
		{name: "Present_ReturnsPath", program: "go", wantPath: true},
		{name: "Missing_SkipsNamingTheInstall", program: "no-such-program-xyz",
			wantSkip: "needs no-such-program-xyz (apt-get install xyz)"},
		{name: "MissingUnderCI_Fails", ci: "true", program: "no-such-program-xyz",
			wantFailed: "needs no-such-program-xyz (apt-get install xyz); CI=true, so this is a failure: .ci/setup.d should have installed it"},
		{name: "MissingUnderCIOne_Fails", ci: "1", program: "no-such-program-xyz",
			wantFailed: "needs no-such-program-xyz (apt-get install xyz); CI=true, so this is a failure: .ci/setup.d should have installed it"},
		{name: "MissingUnderCIFalse_Skips", ci: "false", program: "no-such-program-xyz",
			wantSkip: "needs no-such-program-xyz (apt-get install xyz)"},
		{name: "PresentUnderShort_Skips", short: true, program: "go",
			wantSkip: "skipped under -short: starts go, a program outside Go"},
		{name: "MissingUnderShortAndCI_Skips", ci: "true", short: true, program: "no-such-program-xyz",
			wantSkip: "skipped under -short: starts no-such-program-xyz, a program outside Go"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := &recorder{TB: t}
			path := require(r, tt.program, "apt-get install xyz", tt.short)
			if (path != "") != tt.wantPath {
				t.Errorf("Require path = %q, want a path: %v", path, tt.wantPath)
			}
			if r.skipped != tt.wantSkip {
				t.Errorf("skip = %q, want %q", r.skipped, tt.wantSkip)
			}
			if r.failed != tt.wantFailed {
				t.Errorf("fatal = %q, want %q", r.failed, tt.wantFailed)
			}
		})
	}
}

func TestRequireVersion(t *testing.T) {
	tests := []struct {
		name         string
		major, minor int
		wantSkip     string
		wantPath     bool
	}{
		{name: "NewEnough_ReturnsPath", major: 1, minor: 0, wantPath: true},
		{name: "TooOld_SkipsNamingTheVersion", major: 999, minor: 1, wantSkip: "needs go 999.1 or later, found "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", "")
			r := &recorder{TB: t}
			path := requireVersion(r, "go", "version", tt.major, tt.minor, "go.dev/dl", false)
			if (path != "") != tt.wantPath {
				t.Errorf("RequireVersion path = %q, want a path: %v", path, tt.wantPath)
			}
			if !strings.HasPrefix(r.skipped, tt.wantSkip) || (tt.wantSkip == "") != (r.skipped == "") {
				t.Errorf("skip = %q, want it to start with %q", r.skipped, tt.wantSkip)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	if got := summary("contract.test", nil); got != "" {
		t.Errorf("summary of no skips = %q, want empty", got)
	}
	got := summary("contract.test", map[string]int{"needs python3 (apt-get install python3)": 2, "needs curl 7.87 or later, found 7.68 (apt-get install curl)": 1})
	want := "testenv: contract: 3 tests skipped for want of a program outside Go; needs curl 7.87 or later, found 7.68 (apt-get install curl): 1; needs python3 (apt-get install python3): 2 (install them to run these tests; CI=true makes them fail)"
	if got != want {
		t.Errorf("summary:\n got %q\nwant %q", got, want)
	}
}
