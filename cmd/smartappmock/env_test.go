package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestKnownEnv_CoversWhatTheRepositorySets: every SMARTAPPMOCK_ variable that the image, the
// compose and Kubernetes files, CI and the docs set is known, so none of them draws the warning
// (the docs' deliberate misspelling aside).
func TestKnownEnv_CoversWhatTheRepositorySets(t *testing.T) {
	t.Parallel()
	known := knownEnv()
	re := regexp.MustCompile(`SMARTAPPMOCK_[A-Z0-9_]*[A-Z0-9]`)
	var files []string
	for _, pattern := range []string{"Dockerfile", "docker-compose*.yml", "deploy/*/*", ".ci/*", ".ci/*/*", "docs/*.md", "README.md"} {
		m, err := filepath.Glob(filepath.Join("..", "..", pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("found %d files to scan, want the repository's", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // a folder
		}
		for _, name := range re.FindAllString(string(data), -1) {
			if name == "SMARTAPPMOCK_ADRR" { // the example of the warning
				continue
			}
			if !slices.Contains(known, name) {
				t.Errorf("%s sets %s, which knownEnv does not list: smartappmock would warn about it", f, name)
			}
		}
	}
}

func TestWarnUnknownEnv(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	warnUnknownEnv([]string{"PATH=/bin", "SMARTAPPMOCK_ADDR=127.0.0.1:0", "SMARTAPPMOCK_STOR=memory", "SMARTAPPMOCK_EMPTY=", "SMARTAPPMOCK_ZZZ=1"}, &out)
	want := "smartappmock: warning: SMARTAPPMOCK_STOR is not a setting of smartappmock, ignored (did you mean SMARTAPPMOCK_STORE?)\n" +
		"smartappmock: warning: SMARTAPPMOCK_ZZZ is not a setting of smartappmock, ignored (run 'smartappmock serve -h' for the variables)\n"
	if got := out.String(); got != want {
		t.Errorf("warnings:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(out.String(), "EMPTY") {
		t.Error("an empty variable was warned about")
	}
}
