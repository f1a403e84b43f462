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
	"regexp"
	"strconv"
	"strings"
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
// test needs must be installed.
func Missing(t testing.TB, what string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s; CI=true, so this is a failure: .ci/setup.d should have installed it", what)
		return
	}
	t.Skip(what)
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
