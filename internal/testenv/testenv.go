// Package testenv lets a test say which program outside Go it needs. Without the program the test
// skips with one line naming what to install, so `go test ./...` passes on a machine with only Go;
// with CI=true (CI installs everything, .ci/setup.d) it fails instead, so CI still proves it.
//
// It also keeps `go test -short ./...` a fast inner loop: a test that starts a program outside Go
// (Require, RequireVersion) or builds a binary (SkipIfShort) skips under -short, with one line
// saying what it would have started. `go test ./...` without -short still runs everything.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// InCI reports whether the environment variable CI says this is a CI run ("true" or "1", as
// GitHub Actions, GitLab and most others set it).
func InCI() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv("CI")))
	return v == "true" || v == "1"
}

// Require returns the path of program, looked up in PATH. When it is missing the test skips with
// "needs <program> (<install>)", or fails with that line under CI. install says how to get it,
// e.g. "apt-get install python3".
//
// Under -short the test skips first, whether or not the program is there.
func Require(t testing.TB, program, install string) string {
	t.Helper()
	return require(t, program, install, testing.Short())
}

// require is Require with -short as a parameter, for this package's tests.
func require(t testing.TB, program, install string, short bool) string {
	t.Helper()
	if short {
		t.Skip("skipped under -short: starts " + program + ", a program outside Go")
		return ""
	}
	path, err := exec.LookPath(program)
	if err != nil {
		Missing(t, fmt.Sprintf("needs %s (%s)", program, install))
	}
	return path
}

// SkipIfShort skips the test under -short with "skipped under -short: " and why, a one-line
// reason such as "builds the example bot with go build". Tests that start programs through Require
// need not call it.
func SkipIfShort(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped under -short: " + why)
	}
}

// Missing skips the test with the one-line reason what, or fails it under CI, where what the
// test needs must be installed. The skip is recorded for Report.
func Missing(t testing.TB, what string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s; CI=true, so this is a failure: .ci/setup.d should have installed it", what)
		return
	}
	Record(what)
	t.Skip(what)
}

var (
	skipsMu sync.Mutex
	skips   = map[string]int{} // what was missing -> how many tests it skipped
)

// Record counts one test that ran without what it wanted (a program outside Go), for Report:
// Missing calls it; a test that runs with less (the scale-out test without HAProxy) calls it too.
func Record(what string) {
	skipsMu.Lock()
	skips[what]++
	skipsMu.Unlock()
}

// Reporting wraps a TestMain's m: its Run runs the tests, then Report. Use it as
// goleak.VerifyTestMain(testenv.Reporting(m)) or testscript.Main(testenv.Reporting(m), …).
func Reporting(m interface{ Run() int }) interface{ Run() int } { return reporting{m} }

type reporting struct{ m interface{ Run() int } }

func (r reporting) Run() int {
	code := r.m.Run()
	Report()
	return code
}

// Report writes one line naming what the package's skipped tests were missing, if any. A plain
// `go test ./...` shows a passing package's output to no one, so the line goes to the terminal
// (/dev/tty) when there is one, where it appears above the package's "ok" line; otherwise to
// stderr, which `go test -v` and a failing package show.
func Report() {
	skipsMu.Lock()
	line := summary(filepath.Base(os.Args[0]), skips)
	skipsMu.Unlock()
	if line == "" {
		return
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		fmt.Fprintln(tty, line)
		tty.Close()
		return
	}
	fmt.Fprintln(os.Stderr, line)
}

// summary words the skips of the test binary named bin ("contract.test").
func summary(bin string, skips map[string]int) string {
	if len(skips) == 0 {
		return ""
	}
	n := 0
	var whats []string
	for what, k := range skips {
		n += k
		whats = append(whats, fmt.Sprintf("%s: %d", what, k))
	}
	sort.Strings(whats)
	tests := "tests"
	if n == 1 {
		tests = "test"
	}
	return fmt.Sprintf("testenv: %s: %d %s skipped for want of a program outside Go; %s (install them to run these tests; CI=true makes them fail)",
		strings.TrimSuffix(bin, ".test"), n, tests, strings.Join(whats, "; "))
}

var versionRE = regexp.MustCompile(`(\d+)\.(\d+)`)

// RequireVersion is Require for a program that must be at least version major.minor: it runs
// "program versionArg" and reads the first "N.N" it prints. An older program counts as missing.
func RequireVersion(t testing.TB, program, versionArg string, major, minor int, install string) string {
	t.Helper()
	return requireVersion(t, program, versionArg, major, minor, install, testing.Short())
}

// requireVersion is RequireVersion with -short as a parameter, for this package's tests.
func requireVersion(t testing.TB, program, versionArg string, major, minor int, install string, short bool) string {
	t.Helper()
	path := require(t, program, install, short)
	if path == "" {
		return ""
	}
	out, _ := exec.Command(path, versionArg).CombinedOutput()
	m := versionRE.FindStringSubmatch(string(out))
	if m == nil {
		Missing(t, fmt.Sprintf("needs %s %d.%d or later; '%s %s' printed no version (%s)", program, major, minor, program, versionArg, install))
		return ""
	}
	gotMajor, _ := strconv.Atoi(m[1])
	gotMinor, _ := strconv.Atoi(m[2])
	if gotMajor < major || gotMajor == major && gotMinor < minor {
		Missing(t, fmt.Sprintf("needs %s %d.%d or later, found %s.%s (%s)", program, major, minor, m[1], m[2], install))
		return ""
	}
	return path
}
