package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/internal/testenv"
)

// readmeSection returns the text between the markers of a README section.
func readmeSection(t *testing.T, name string) string {
	t.Helper()
	return docSection(t, "README.md", name)
}

// docSection returns the text between the markers of a section of a page (README.md or
// docs/X.md, relative to the repository root): <!-- section: NAME --> … <!-- /section: NAME -->.
func docSection(t *testing.T, page, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", page))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?s)<!-- section: ` + regexp.QuoteMeta(name) + ` -->(.*?)<!-- /section: ` + regexp.QuoteMeta(name) + ` -->`)
	m := re.FindSubmatch(data)
	if m == nil {
		t.Fatalf("%s has no section %q", page, name)
	}
	return string(m[1])
}

// TestREADMEWalkthrough runs every sh block of the README's walk-through against a fresh fake, in
// order and in one shell (so $TOKEN carries over), and checks each output against the text block
// that follows it. Times are compared as <TIME>.
//
// With SMARTAPPMOCK_TOUR_TARGET set to a base URL (http://127.0.0.1:18480), the tour runs against
// that server instead, after POST /__admin/reset: scripts/container-test.sh points it at the image
// running under podman.
func TestREADMEWalkthrough(t *testing.T) {
	needCurl(t)
	testenv.Require(t, "bash", "apt-get install bash")
	section := readmeSection(t, "walkthrough")
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```\n```text\n(.*?)```").FindAllStringSubmatch(section, -1)
	if len(blocks) < 6 {
		t.Fatalf("found %d command/output pairs in the walk-through, want at least 6", len(blocks))
	}
	base := os.Getenv("SMARTAPPMOCK_TOUR_TARGET")
	if base == "" {
		b, _, stop := startServe(t, []string{"--addr", "127.0.0.1:0"}, nil)
		defer stop()
		base = b
	} else {
		resp, err := http.Post(base+"/__admin/reset", "", nil)
		if err != nil {
			t.Fatalf("SMARTAPPMOCK_TOUR_TARGET: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("SMARTAPPMOCK_TOUR_TARGET: POST /__admin/reset answered %s", resp.Status)
		}
		t.Logf("the tour runs against %s", base)
	}
	var script strings.Builder
	for i, b := range blocks {
		script.WriteString("echo '@@@" + strconv.Itoa(i) + "@@@'\n")
		script.WriteString(strings.ReplaceAll(b[1], "http://localhost:8080", base) + "\n")
	}
	out, err := exec.Command("bash", "-c", script.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("walk-through script failed: %v\n%s", err, out)
	}
	times := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	parts := regexp.MustCompile(`@@@\d+@@@\n`).Split(string(out), -1)[1:]
	if len(parts) != len(blocks) {
		t.Fatalf("got %d outputs for %d blocks:\n%s", len(parts), len(blocks), out)
	}
	for i, b := range blocks {
		got := strings.TrimRight(times.ReplaceAllString(parts[i], "<TIME>"), "\n")
		want := strings.TrimRight(b[2], "\n")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("block %d:\n%s\noutput mismatch (-README +actual):\n%s", i, b[1], diff)
		}
	}
}

// TestREADMEConfigReference parses the configuration reference (docs/configuration.md): the
// documented keys are the real ones.
func TestREADMEConfigReference(t *testing.T) {
	section := docSection(t, "docs/configuration.md", "config")
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindStringSubmatch(section)
	if m == nil {
		t.Fatal("no yaml block in the config section")
	}
	c, err := config.Parse("docs/configuration.md", []byte(m[1]))
	if err != nil {
		t.Fatalf("the configuration reference does not parse: %v", err)
	}
	if len(c.Apps) != 1 || len(c.Rules) != 1 || c.Policy.Window.MaxReplies != 5 {
		t.Errorf("parsed reference = %+v", c)
	}
}

// TestREADMEListsEveryServeFlag: the command-line reference (docs/configuration.md) names every
// serve flag and its environment variable.
func TestREADMEListsEveryServeFlag(t *testing.T) {
	section := docSection(t, "docs/configuration.md", "config")
	var help strings.Builder
	_ = run(t.Context(), []string{"serve", "-h"}, func(string) string { return "" }, &help, &help)
	flags := regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(help.String(), -1)
	if len(flags) < 5 {
		t.Fatalf("found %d flags in serve -h:\n%s", len(flags), help.String())
	}
	for _, f := range flags {
		if !strings.Contains(section, "--"+f[1]+" ") {
			t.Errorf("docs/configuration.md does not document --%s", f[1])
		}
		env := "SMARTAPPMOCK_" + strings.ToUpper(strings.ReplaceAll(f[1], "-", "_"))
		if !strings.Contains(help.String(), env) {
			t.Errorf("serve -h does not name %s for --%s", env, f[1])
		}
	}
}
