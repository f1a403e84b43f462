package main

import (
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

// A page's code blocks: a sh block followed by a text block is a command and its exact output; any
// other sh block is preceded by a comment that names what runs it, or why nothing can.
var (
	shBlockRE   = regexp.MustCompile("(?s)(<!-- (run by|not run): ([^>]*?) -->\n)?```sh\n(.*?)```\n(```text\n(.*?)```\n)?")
	timeRE      = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	latencyRE   = regexp.MustCompile(`\(\d+\.\dms\)`) // an attempt's latency, as smartappmock push prints it
	testFuncRE  = regexp.MustCompile(`^Test\w+`)
	repoPathRE  = regexp.MustCompile(`^[\w./-]+\.(sh|go|md|yaml|yml)$|^\.ci/run$|^[\w./-]+/$`)
	markerFirst = regexp.MustCompile(`^(\S+)`)
)

// docBlock is one sh block of a page.
type docBlock struct {
	marker, why    string // "run by" or "not run", and what follows it
	script, output string
	runnable       bool
}

// docBlocks returns the sh blocks of a page.
func docBlocks(text string) []docBlock {
	var out []docBlock
	for _, m := range shBlockRE.FindAllStringSubmatch(text, -1) {
		out = append(out, docBlock{marker: m[2], why: m[3], script: m[4], output: m[6], runnable: m[5] != ""})
	}
	return out
}

// docsPages returns docs/*.md, relative to the repository root.
func docsPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no docs pages: %v", err)
	}
	var out []string
	for _, p := range pages {
		out = append(out, strings.TrimPrefix(filepath.ToSlash(p), "../../"))
	}
	return out
}

func readPage(t *testing.T, page string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", page))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestDocs_EveryCommandIsRun: every sh block of README.md and docs/*.md is either run by
// TestDocs_Commands (or, in the README, TestREADMEWalkthrough) with its output, or names the test
// or script that runs it (which must exist), or says why nothing can run it.
func TestDocs_EveryCommandIsRun(t *testing.T) {
	t.Parallel()
	walkthrough := readmeSection(t, "walkthrough")
	for _, page := range append([]string{"README.md"}, docsPages(t)...) {
		text := readPage(t, page)
		for _, b := range docBlocks(text) {
			first := strings.SplitN(strings.TrimSpace(b.script), "\n", 2)[0]
			switch {
			case b.runnable && page == "README.md" && !strings.Contains(walkthrough, b.script):
				t.Errorf("%s: the block %q has an output but is outside the walk-through, which is what runs README commands", page, first)
			case b.runnable:
			case b.marker == "not run":
				if strings.TrimSpace(b.why) == "" {
					t.Errorf("%s: block %q says it is not run, without saying why", page, first)
				}
			case b.marker == "run by":
				what := markerFirst.FindString(b.why)
				switch {
				case testFuncRE.MatchString(what):
					if !repoHasTest(t, what) {
						t.Errorf("%s: block %q is run by %s, which no _test.go file defines", page, first, what)
					}
				case repoPathRE.MatchString(what):
					if _, err := os.Stat(filepath.Join("..", "..", what)); err != nil {
						t.Errorf("%s: block %q is run by %s: %v", page, first, what, err)
					}
				default:
					t.Errorf("%s: block %q: 'run by: %s' names neither a test nor a file", page, first, b.why)
				}
			default:
				t.Errorf("%s: block %q has no output to check and no <!-- run by: … --> or <!-- not run: … --> comment", page, first)
			}
		}
	}
}

// repoHasTest reports whether a _test.go file of the repository defines func name.
func repoHasTest(t *testing.T, name string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil || found {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, "_test.go") {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			found = strings.Contains(string(data), "func "+name+"(")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestDocs_Commands runs, page by page, every sh block of docs/*.md that shows its output, in
// order and in one shell (so variables carry over), against a fresh fake started with
// --write-ca ca.pem in the shell's directory, and checks each output. Times are compared as
// <TIME>, the latencies smartappmock push prints as (<LATENCY>); http://localhost:8080 is the
// fake's address. A page that runs smartappmock push gets the built command on PATH, with
// SMARTAPPMOCK_ADDR set to the fake.
func TestDocs_Commands(t *testing.T) {
	needCurl(t)
	testenv.Require(t, "bash", "apt-get install bash")
	testenv.Require(t, "openssl", "apt-get install openssl") // docs/https-and-proxy.md reads the CA
	for _, page := range docsPages(t) {
		var blocks []docBlock
		for _, b := range docBlocks(readPage(t, page)) {
			if b.runnable {
				blocks = append(blocks, b)
			}
		}
		if len(blocks) == 0 {
			continue
		}
		t.Run(strings.TrimSuffix(filepath.Base(page), ".md"), func(t *testing.T) {
			dir := t.TempDir()
			base, _, stop := startServe(t, []string{"--addr", "127.0.0.1:0", "--write-ca", filepath.Join(dir, "ca.pem")}, nil)
			defer stop()
			env := append(os.Environ(), "HTTPS_PROXY=", "https_proxy=", "HTTP_PROXY=", "http_proxy=")
			if strings.Contains(readPage(t, page), "\nsmartappmock push ") {
				// The page runs the command against the fake: built, on PATH, pointed at it.
				bin := buildCommand(t)
				env = append(env, "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
					"SMARTAPPMOCK_ADDR="+strings.TrimPrefix(base, "http://"))
			}
			var script strings.Builder
			for i, b := range blocks {
				script.WriteString("echo '@@@" + strconv.Itoa(i) + "@@@'\n")
				script.WriteString(strings.ReplaceAll(b.script, "http://localhost:8080", base) + "\n")
			}
			cmd := exec.Command("bash", "-c", script.String())
			cmd.Dir = dir
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: script failed: %v\n%s", page, err, out)
			}
			parts := regexp.MustCompile(`@@@\d+@@@\n`).Split(strings.ReplaceAll(string(out), "\r", ""), -1)[1:]
			if len(parts) != len(blocks) {
				t.Fatalf("got %d outputs for %d blocks:\n%s", len(parts), len(blocks), out)
			}
			for i, b := range blocks {
				got := strings.TrimRight(latencyRE.ReplaceAllString(timeRE.ReplaceAllString(parts[i], "<TIME>"), "(<LATENCY>)"), "\n")
				want := strings.TrimRight(latencyRE.ReplaceAllString(b.output, "(<LATENCY>)"), "\n")
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s block %d:\n%s\noutput mismatch (-page +actual):\n%s", page, i, b.script, diff)
				}
			}
		})
	}
}

// TestDocs_ConfigExamplesParse: every YAML block of the docs that is a configuration file (it
// starts with "version:") is one.
func TestDocs_ConfigExamplesParse(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile("(?s)```yaml\n(.*?)```")
	n := 0
	for _, page := range docsPages(t) {
		for _, m := range re.FindAllStringSubmatch(readPage(t, page), -1) {
			if !strings.HasPrefix(m[1], "version:") {
				continue
			}
			n++
			if _, err := config.Parse(page, []byte(m[1])); err != nil {
				t.Errorf("a configuration example of %s does not parse: %v", page, err)
			}
		}
	}
	if n < 2 {
		t.Errorf("found %d configuration examples in docs/, want at least 2", n)
	}
}

// TestDocs_README: the README is a landing page (about 250 lines at most) whose links to docs/
// pages all resolve, and every docs page is linked from it.
func TestDocs_README(t *testing.T) {
	t.Parallel()
	readme := readPage(t, "README.md")
	if n := strings.Count(readme, "\n"); n > 250 {
		t.Errorf("README.md has %d lines; keep it a landing page of at most 250 and move reference to docs/", n)
	}
	linked := map[string]bool{}
	for _, m := range regexp.MustCompile(`\]\((docs/[^)#]+)`).FindAllStringSubmatch(readme, -1) {
		linked[m[1]] = true
		if _, err := os.Stat(filepath.Join("..", "..", m[1])); err != nil {
			t.Errorf("README links %s: %v", m[1], err)
		}
	}
	for _, page := range docsPages(t) {
		if !linked[page] {
			t.Errorf("README.md does not link %s", page)
		}
	}
}
