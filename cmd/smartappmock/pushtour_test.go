package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock/internal/testenv"
)

// TestDocs_PushTourBot: the bot of docs/push.md's tour, built in a scratch folder as the page
// says, passes the webhook kit's cases the page runs on it (the ones it does not leave out on
// purpose).
func TestDocs_PushTourBot(t *testing.T) {
	t.Parallel()
	testenv.SkipIfShort(t, "builds the push tour's bot with go build")
	testenv.Require(t, "sh", "a POSIX shell, which runs the bot's command line: apt-get install dash")
	page := readPage(t, "docs/push.md")
	src := regexp.MustCompile("(?s)cat > bot.go <<'EOF'\n(.*?)\nEOF\n").FindStringSubmatch(page)
	if src == nil {
		t.Fatal("docs/push.md has no bot.go heredoc")
	}
	block := regexp.MustCompile(`(?m)^smartappmock contract webhook --case (\S+) -- \./bot$`).FindStringSubmatch(page)
	if block == nil {
		t.Fatal("docs/push.md does not run the kit on ./bot with --case")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bot.go"), []byte(src[1]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", "bot", "bot.go")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build bot.go in a scratch folder: %v\n%s", err, out)
	}
	stdout, stderr, err := runContract(t, "webhook", "--case", block[1], "--", "sh", "-c", "cd '"+dir+"' && exec ./bot")
	if err != nil || !strings.Contains(stdout, "PASS: every must-case passed") {
		t.Fatalf("contract webhook on the tour's bot: %v\n%s\n%s", err, stdout, stderr)
	}
}
