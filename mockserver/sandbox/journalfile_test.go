package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/observe"
	"github.com/smartappmock/smartappmock/store"
)

// readJournalFile decodes an NDJSON journal file.
func readJournalFile(t *testing.T, path string) []store.Entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []store.Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var e store.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d is not an entry: %v: %s", len(out)+1, err, sc.Bytes())
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestJournalFile_HoldsEveryEntry checks the feed subscriber: every recorded entry reaches the file
// with its sequence number, beyond the in-memory cap and across a reset.
func TestJournalFile_HoldsEveryEntry(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "journal.ndjson")
	jf, err := observe.OpenJournalFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("jf.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Policy.JournalCap = 3
	st := store.NewMemory(3)
	srv, err := newSandbox(mockserver.Options{Config: cfg, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	sink, err := observe.StartJournalSink(st, jf, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, srv: srv, clock: newTestClock()}
	var ids []string
	for i := range 10 {
		res := f.sendForm("static-token-a", text("user-a", fmt.Sprint(i)))
		ids = append(ids, res.Header.Get(smartappmock.HeaderRequestID))
		if i == 5 {
			f.admin(http.MethodPost, "/__admin/reset", "", nil)
		}
	}
	if err := sink.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := jf.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	var gotIDs []string
	var lastSeq uint64
	for _, e := range readJournalFile(t, path) {
		gotIDs = append(gotIDs, e.ID)
		if e.Seq <= lastSeq {
			t.Errorf("entry %s: seq %d after %d", e.ID, e.Seq, lastSeq)
		}
		lastSeq = e.Seq
		if strings.Contains(e.Token, "static-token-a") {
			t.Errorf("entry %s holds the token unredacted", e.ID)
		}
	}
	if diff := cmp.Diff(ids, gotIDs); diff != "" {
		t.Errorf("journal file ids (-sent +file):\n%s", diff)
	}
	if err := jf.Write(&store.Entry{ID: "late"}); err == nil {
		t.Error("Write after Close succeeded; want an error")
	}
	_ = srv
}

// TestJournalFile_SIGTERMAfterNSends builds the command, runs it with --journal-file, sends N
// requests (some still in flight when SIGTERM arrives: their bodies are still on the way), and
// checks that every request was answered and the file holds exactly N entries.
func TestJournalFile_SIGTERMAfterNSends(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "smartappmock")
	build := exec.Command("go", "build", "-o", bin, "github.com/smartappmock/smartappmock/cmd/smartappmock")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfgFile := filepath.Join(dir, "config.yaml")
	const cfgYAML = `
version: 1
policy: {apps: configured, tokens: issued, window: {mode: open_on_first_send, max_replies: 1000}}
apps:
  - {id: "1001", client_id: key-a, client_secret: secret-a, tokens: [static-token-a]}
`
	if err := os.WriteFile(cfgFile, []byte(cfgYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(dir, "journal.ndjson")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--addr", "127.0.0.1:0", "--config", cfgFile, "--log-format", "json")
	cmd.Env = append(os.Environ(), "SMARTAPPMOCK_JOURNAL_FILE="+journal)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var base string
	addrRE := regexp.MustCompile(`listening on (http://\S+)`)
	for sc.Scan() {
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("no address printed; stderr:\n%s", stderr.String())
	}
	go func() { // drain the rest of stdout
		for sc.Scan() {
		}
	}()

	client := &http.Client{Timeout: 10 * time.Second}
	send := func(openID string, body io.Reader) string {
		resp, err := client.Post(base+smartappmock.SendPath+"?access_token=static-token-a", "application/x-www-form-urlencoded", body)
		if err != nil {
			return "transport: " + err.Error()
		}
		resp.Body.Close()
		return resp.Header.Get(smartappmock.HeaderOutcome)
	}
	const fast, slow = 40, 5
	for i := range fast {
		openID := fmt.Sprintf("user-%d", i)
		if got := send(openID, strings.NewReader(text(openID, "hi").Encode())); got != "business 0" {
			t.Fatalf("send %d: %s", i, got)
		}
	}
	// Slow sends: the headers now (with Expect: 100-continue, so the server's "100 Continue" tells
	// that its handler is running and reading the body), the body only after SIGTERM.
	slowClient := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{ExpectContinueTimeout: 20 * time.Second}}
	var wg sync.WaitGroup
	slowOutcomes := make([]string, slow)
	writers := make([]*io.PipeWriter, slow)
	reading := make(chan struct{}, slow)
	form := text("slow", "in flight").Encode()
	for i := range slow {
		pr, pw := io.Pipe()
		writers[i] = pw
		req, err := http.NewRequest(http.MethodPost, base+smartappmock.SendPath+"?access_token=static-token-a", pr)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = int64(len(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Expect", "100-continue")
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{Got100Continue: func() { reading <- struct{}{} }}))
		wg.Go(func() {
			resp, err := slowClient.Do(req)
			if err != nil {
				slowOutcomes[i] = "transport: " + err.Error()
				return
			}
			resp.Body.Close()
			slowOutcomes[i] = resp.Header.Get(smartappmock.HeaderOutcome)
		})
	}
	for range slow {
		select {
		case <-reading:
		case <-time.After(20 * time.Second):
			t.Fatal("the server did not start reading the slow sends within 20 s")
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server is shutting down now, the sends still in flight
	for _, pw := range writers {
		_, _ = io.WriteString(pw, form)
		pw.Close()
	}
	wg.Wait()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the fake did not exit cleanly on SIGTERM: %v\nstderr:\n%s", err, stderr.String())
	}
	for i, o := range slowOutcomes {
		if o != "business 0" {
			t.Errorf("in-flight send %d during shutdown: %s", i, o)
		}
	}
	es := readJournalFile(t, journal)
	if len(es) != fast+slow {
		t.Errorf("journal file holds %d entries after %d sends", len(es), fast+slow)
	}
}
