package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/internal/testenv"
)

// TestDocs_PlatformPushes runs the blocks of docs/push.md marked "run by: TestDocs_PlatformPushes",
// in order and in one shell, against a fake started with the page's platform configuration (its
// push URL pointed at a receiver that verifies and decrypts with baidupush.OpenPlatform), with
// the built command on PATH, and checks each block's output ("It prints:"). Latencies compare as
// (<LATENCY>), CreateTime as <UNIX>.
func TestDocs_PlatformPushes(t *testing.T) {
	needCurl(t)
	testenv.Require(t, "bash", "apt-get install bash")
	bin := buildCommand(t)
	page := readPage(t, "docs/push.md")
	cfg := regexp.MustCompile("(?s)```yaml\n(version: 1\nplatforms:\n.*?)```").FindStringSubmatch(page)
	if cfg == nil {
		t.Fatal("docs/push.md has no platform configuration")
	}
	blocks := regexp.MustCompile("(?s)<!-- run by: TestDocs_PlatformPushes[^>]*-->\n```sh\n(.*?)```\n\nIt prints:\n\n```text\n(.*?)```").FindAllStringSubmatch(page, -1)
	if len(blocks) < 2 {
		t.Fatalf("docs/push.md has %d blocks run by TestDocs_PlatformPushes; want the pushes and getmsg", len(blocks))
	}
	var mu sync.Mutex
	var refused []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, err := baidupush.OpenPlatform("tp-push-token", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "tp-key", body); err != nil {
			mu.Lock()
			refused = append(refused, err.Error())
			mu.Unlock()
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, "success")
	}))
	defer rcv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "platform.yaml")
	yaml := strings.Replace(cfg[1], "http://127.0.0.1:8082/", rcv.URL+"/", 1)
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	base, _, stop := startServe(t, []string{"--addr", "127.0.0.1:0", "--config", file}, nil)
	defer stop()
	var script strings.Builder
	for i, b := range blocks {
		script.WriteString("echo '@@@" + strconv.Itoa(i) + "@@@'\n")
		script.WriteString(strings.ReplaceAll(b[1], "http://localhost:8080", base) + "\n")
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HTTPS_PROXY=", "https_proxy=", "HTTP_PROXY=", "http_proxy=",
		"PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"), "SMARTAPPMOCK_ADDR="+strings.TrimPrefix(base, "http://"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("script failed: %v\n%s", err, out)
	}
	parts := regexp.MustCompile(`@@@\d+@@@\n`).Split(string(out), -1)[1:]
	if len(parts) != len(blocks) {
		t.Fatalf("got %d outputs for %d blocks:\n%s", len(parts), len(blocks), out)
	}
	unix := regexp.MustCompile(`"CreateTime":\d+`)
	norm := func(s string) string {
		return strings.TrimRight(unix.ReplaceAllString(latencyRE.ReplaceAllString(s, "(<LATENCY>)"), `"CreateTime":<UNIX>`), "\n")
	}
	for i, b := range blocks {
		if diff := cmp.Diff(norm(b[2]), norm(parts[i])); diff != "" {
			t.Errorf("block %d:\n%s\noutput mismatch (-page +actual):\n%s", i, b[1], diff)
		}
	}
	_ = stop() // no push after this point
	mu.Lock()
	defer mu.Unlock()
	if len(refused) > 0 {
		t.Errorf("the receiver refused pushes: %q", refused)
	}
}
