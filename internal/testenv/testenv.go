// Package testenv lets a test say which program outside Go it needs. Without the program the test
// skips with one line naming what to install, so `go test ./...` passes on a machine with only Go;
// with CI=true (CI installs everything, .ci/setup.d) it fails instead, so CI still proves it.
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
func Require(t testing.TB, program, install string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		Missing(t, fmt.Sprintf("needs %s (%s)", program, install))
	}
	return path
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
	path := Require(t, program, install)
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
