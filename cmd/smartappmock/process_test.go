package main

// Process tests: the built command, run as docker runs it, signalled and killed by its PID.

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/internal/testenv"
	"github.com/smartappmock/smartappmock/store"
)

// processConfig is the configuration of the process tests: one app, a token that works, a window
// that does not run out.
const processConfig = `
version: 1
policy: {apps: configured, tokens: issued, window: {mode: open_on_first_send, max_replies: 100000}}
apps:
  - {id: "1001", client_id: key-a, client_secret: secret-a, tokens: [static-token-a]}
`

// buildCommand builds the command into a temporary directory.
func buildCommand(t *testing.T) string {
	t.Helper()
	testenv.SkipIfShort(t, "builds the command with go build and runs it")
	bin := filepath.Join(t.TempDir(), "smartappmock")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is a running command.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	addr   string // 127.0.0.1:port
	stderr *syncBuffer
	exited chan struct{}
	err    error // Wait's, once exited is closed
}

// startProc runs the command with the process config, on a free loopback port, with env added, and
// waits for its address. The process is killed (by its PID) at cleanup if it still runs.
func startProc(t *testing.T, bin string, env ...string) *proc {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(processConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "--addr", "127.0.0.1:0", "--config", cfg, "--log-format", "json")
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	addrs := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`listening on http://(\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrs <- m[1]
			}
		}
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	select {
	case p.addr = <-addrs:
		p.base = "http://" + p.addr
	case <-p.exited:
		t.Fatalf("the command exited before listening: %v\nstderr:\n%s", p.err, p.stderr)
	case <-time.After(20 * time.Second):
		t.Fatalf("no address printed within 20 s; stderr:\n%s", p.stderr)
	}
	return p
}

// signal sends sig to the process.
func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits at most limit for the process to exit, and returns Wait's error.
func (p *proc) wait(limit time.Duration) error {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(limit):
		p.t.Fatalf("the command still runs %s later; stderr:\n%s", limit, p.stderr)
		return nil
	}
}

// senders send text messages from n goroutines until stop is called, and keep the request id of
// every send whose answer arrived (an acknowledged send).
type senders struct {
	mu   sync.Mutex
	acks []string
	stop chan struct{}
	wg   sync.WaitGroup
}

func startSenders(base string, n int) *senders {
	s := &senders{stop: make(chan struct{})}
	for g := range n {
		s.wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-s.stop:
					return
				default:
				}
				if id := sendText(client, base, fmt.Sprintf("u%d-%d", g, i%200), "hi"); id != "" {
					s.mu.Lock()
					s.acks = append(s.acks, id)
					s.mu.Unlock()
				} else {
					time.Sleep(time.Millisecond) // the fake is gone: do not spin
				}
			}
		})
	}
	return s
}

// count returns how many sends were acknowledged so far.
func (s *senders) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acks)
}

// halt stops the senders and returns the acknowledged request ids.
func (s *senders) halt() []string {
	close(s.stop)
	s.wg.Wait()
	return s.acks
}

// waitAcks waits until n sends were acknowledged.
func (s *senders) waitAcks(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for s.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d sends acknowledged within 20 s", s.count())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sendText sends one text message and returns the request id of the answer ("" when none came).
func sendText(client *http.Client, base, openID, content string) string {
	form := url.Values{"user_type": {"1"}, "open_id": {openID}, "msg_type": {"text"}, "content": {content}}
	resp, err := client.PostForm(base+smartappmock.SendPath+"?access_token=static-token-a", form)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return ""
	}
	return resp.Header.Get(smartappmock.HeaderRequestID)
}

// stallBody opens a connection that sends a send's headers and part of its body, waits for the
// server's "100 Continue" (its handler is reading the body), and stalls. conn is a plain or a TLS
// connection.
func stallBody(t *testing.T, conn net.Conn, host string) {
	t.Helper()
	req := "POST " + smartappmock.SendPath + "?access_token=static-token-a HTTP/1.1\r\nHost: " + host +
		"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\nExpect: 100-continue\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(line, "100") {
		t.Fatalf("want 100 Continue, got %q, %v", line, err)
	}
	if _, err := io.WriteString(conn, "user_type=1&open_id="); err != nil {
		t.Fatal(err)
	}
}

// dialStalledTunnel opens a CONNECT tunnel to openapi.baidu.com through the fake's proxy, completes
// the TLS handshake inside it and stalls a send's body there.
func dialStalledTunnel(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	host := smartappmock.BaiduHost + ":443"
	if _, err := io.WriteString(conn, "CONNECT "+host+" HTTP/1.1\r\nHost: "+host+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != http.StatusOK || br.Buffered() > 0 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	tc := tls.Client(conn, &tls.Config{ServerName: smartappmock.BaiduHost, InsecureSkipVerify: true}) // the fake's own CA: trust is not what this test is about
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	stallBody(t, tc, smartappmock.BaiduHost)
	return tc
}

// dialStalledStream opens the inbox's event stream with a tiny receive buffer, reads its first
// bytes and stops reading.
func dialStalledStream(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, "GET /__admin/ui/events HTTP/1.1\r\nHost: "+addr+"\r\nAccept: text/event-stream\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(line, "200") {
		t.Fatalf("event stream: %q, %v", line, err)
	}
	return conn
}

// readJournalIDs parses every line of an NDJSON journal file as an entry and returns their ids.
func readJournalIDs(t *testing.T, path string) map[string]bool {
	t.Helper()
	ids, _ := readJournal(t, path)
	return ids
}

// readJournal parses every line of an NDJSON journal file as an entry and returns their ids, and
// how many lines have a seq not above the line before (0 in the file of one run).
func readJournal(t *testing.T, path string) (map[string]bool, int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Errorf("%s does not end with a newline", path)
	}
	ids := map[string]bool{}
	var last uint64
	disorder := 0
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" && len(data) == 0 {
			break
		}
		var e store.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Errorf("%s line %d is not a journal entry: %v: %.80s", path, i+1, err, line)
			continue
		}
		ids[e.ID] = true
		if e.Seq <= last {
			disorder++
		}
		last = e.Seq
	}
	return ids, disorder
}

// missing returns the ids of acks that are not in ids.
func missing(acks []string, ids map[string]bool) []string {
	var out []string
	for _, id := range acks {
		if !ids[id] {
			out = append(out, id)
		}
	}
	return out
}

// TestServe_SIGTERMWithStalledClients_ExitsZeroWithEveryAckJournaled: a stalled CONNECT tunnel, a
// stalled request body and an event stream that stopped reading do not hold the shutdown: SIGTERM
// during ongoing sends ends the process with status 0 within a few seconds (the 3 s grace, then the
// stuck connections are closed), sends in flight when it arrives are answered, and every send a
// client saw answered is in the journal file.
func TestServe_SIGTERMWithStalledClients_ExitsZeroWithEveryAckJournaled(t *testing.T) {
	bin := buildCommand(t)
	journal := filepath.Join(t.TempDir(), "journal.ndjson")
	p := startProc(t, bin, "SMARTAPPMOCK_JOURNAL_FILE="+journal)

	dialStalledTunnel(t, p.addr)
	body, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	stallBody(t, body, p.addr)
	dialStalledStream(t, p.addr)

	s := startSenders(p.base, 4)
	s.waitAcks(t, 500)

	// Sends in flight at SIGTERM: the headers now, the body after it.
	const inFlight = 3
	var wg sync.WaitGroup
	inFlightIDs := make([]string, inFlight)
	bodies := make([]net.Conn, inFlight)
	form := url.Values{"user_type": {"1"}, "open_id": {"late"}, "msg_type": {"text"}, "content": {"in flight"}}.Encode()
	for i := range bodies {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		req := fmt.Sprintf("POST %s?access_token=static-token-a HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", smartappmock.SendPath, p.addr, len(form))
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		if _, err := http.ReadResponse(br, nil); err != nil { // 100 Continue: the handler reads the body
			t.Fatal(err)
		}
		bodies[i] = c
		wg.Go(func() {
			resp, err := http.ReadResponse(br, nil)
			if err == nil {
				inFlightIDs[i] = resp.Header.Get(smartappmock.HeaderRequestID)
				resp.Body.Close()
			}
		})
	}

	start := time.Now()
	p.signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond) // the fake is shutting down now, these sends still in flight
	for _, c := range bodies {
		if _, err := io.WriteString(c, form); err != nil {
			t.Fatal(err)
		}
	}
	err = p.wait(15 * time.Second)
	took := time.Since(start)
	acks := s.halt()
	wg.Wait()
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v, want status 0\nstderr:\n%s", err, p.stderr)
	}
	t.Logf("SIGTERM to exit: %s, with %d sends acknowledged", took.Round(time.Millisecond), len(acks))
	if limit := shutdownGrace + 2*time.Second; took > limit {
		t.Errorf("SIGTERM to exit took %s, want under %s (well inside docker stop's 10 s)", took, limit)
	}
	for i, id := range inFlightIDs {
		if id == "" {
			t.Errorf("send %d in flight at SIGTERM was not answered", i)
		}
	}
	ids, disorder := readJournal(t, journal)
	if disorder > 0 {
		t.Errorf("%d lines of the journal file are out of seq order", disorder)
	}
	if m := missing(append(acks, inFlightIDs...), ids); len(m) > 0 {
		t.Errorf("%d of %d acknowledged sends are not in the journal file, e.g. %q", len(m), len(acks)+inFlight, m[0])
	}
}

// TestServe_SecondSignal_ExitsAtOnce: while a stalled body holds the graceful shutdown, a second
// SIGTERM ends the process at once (the signal's default action), long before the grace is over.
func TestServe_SecondSignal_ExitsAtOnce(t *testing.T) {
	bin := buildCommand(t)
	p := startProc(t, bin)
	body, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	stallBody(t, body, p.addr)
	p.signal(syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.stderr.String(), "shutting down") { // the first signal is being handled
		if time.Now().After(deadline) {
			t.Fatalf("no 'shutting down' logged; stderr:\n%s", p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	p.signal(syscall.SIGTERM)
	err = p.wait(10 * time.Second)
	took := time.Since(start)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Errorf("after a second SIGTERM: %v, want killed by SIGTERM", err)
	}
	if took >= shutdownGrace {
		t.Errorf("the second SIGTERM took %s to end the process; want at once (before the %s grace is over)", took, shutdownGrace)
	}
}

// TestJournalFile_KilledMidLoad_RestartLeavesValidNDJSON: the command is killed (SIGKILL) during a
// load, its journal file is left ending in a torn line, and a new run on the same file moves the
// fragment aside: every line of the file parses, and every send the new run acknowledged is there.
func TestJournalFile_KilledMidLoad_RestartLeavesValidNDJSON(t *testing.T) {
	bin := buildCommand(t)
	journal := filepath.Join(t.TempDir(), "journal.ndjson")

	p := startProc(t, bin, "SMARTAPPMOCK_JOURNAL_FILE="+journal)
	s := startSenders(p.base, 4)
	s.waitAcks(t, 1000)
	p.signal(syscall.SIGKILL)
	if err := p.wait(10 * time.Second); err == nil {
		t.Fatal("the command exited 0 after SIGKILL")
	}
	s.halt()
	// The writer hands whole lines to each write(2), so a SIGKILL seldom tears one by itself; a
	// power cut, a full disk mid-write or an older version can. End the file in a torn line.
	const fragment = `{"seq":1234567,"id":"torn-by-the-crash","endpoi`
	f, err := os.OpenFile(journal, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(f, fragment); err != nil {
		t.Fatal(err)
	}
	f.Close()

	p2 := startProc(t, bin, "SMARTAPPMOCK_JOURNAL_FILE="+journal)
	s2 := startSenders(p2.base, 2)
	s2.waitAcks(t, 100)
	p2.signal(syscall.SIGTERM)
	if err := p2.wait(10 * time.Second); err != nil {
		t.Fatalf("second run: exit %v\nstderr:\n%s", err, p2.stderr)
	}
	acks := s2.halt()
	ids := readJournalIDs(t, journal) // every line parses
	if m := missing(acks, ids); len(m) > 0 {
		t.Errorf("%d of %d sends acknowledged by the second run are not in the file, e.g. %q", len(m), len(acks), m[0])
	}
	torn, err := os.ReadFile(journal + ".torn")
	if err != nil || !strings.Contains(string(torn), fragment) {
		t.Errorf("%s.torn: %q, %v; want the fragment moved there", journal, torn, err)
	}
	if !strings.Contains(p2.stderr.String(), "torn line") {
		t.Errorf("the second run did not log the torn line; stderr:\n%s", p2.stderr)
	}
}

// TestServe_JournalFileOnFullDisk_DegradedAndExit1: when the disk refuses the journal file's lines,
// /__admin/health says degraded with the reason (still HTTP 200), /metrics says so too, and the
// command exits 1 on SIGTERM because entries did not reach the file.
func TestServe_JournalFileOnFullDisk_DegradedAndExit1(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full to stand for a full disk")
	}
	bin := buildCommand(t)
	p := startProc(t, bin, "SMARTAPPMOCK_JOURNAL_FILE=/dev/full")
	if id := sendText(http.DefaultClient, p.base, "u1", "hi"); id == "" {
		t.Fatal("send not answered")
	}
	var h struct{ Status, Reason string }
	deadline := time.Now().Add(10 * time.Second)
	for h.Status != "degraded" {
		if time.Now().After(deadline) {
			t.Fatalf("health still %+v 10 s after a write to a full disk", h)
		}
		time.Sleep(50 * time.Millisecond)
		resp, err := http.Get(p.base + "/__admin/health")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("health: HTTP %d, want 200 (the process is alive)", resp.StatusCode)
		}
		err = json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(h.Reason, "no space left on device") {
		t.Errorf("health reason %q, want the disk's error", h.Reason)
	}
	resp, err := http.Get(p.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"smartappmock_journal_file_degraded 1", "smartappmock_journal_file_lines_written_total 0"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	p.signal(syscall.SIGTERM)
	err = p.wait(10 * time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit after SIGTERM with entries not written: %v, want status 1", err)
	}
	for _, want := range []string{"journal file: degraded", "no space left on device (1 lines dropped during the run)"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr)
		}
	}
}

// procStatus returns the fields of /proc/PID/status named, in kB.
func procStatus(t *testing.T, pid int, names ...string) map[string]int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	out := map[string]int{}
	for _, line := range strings.Split(string(data), "\n") {
		for _, n := range names {
			var kb int
			if _, err := fmt.Sscanf(line, n+": %d kB", &kb); err == nil {
				out[n] = kb
			}
		}
	}
	return out
}

// TestServe_MemoryBounded_HostileLoad: a hostile load (200 sends of a legal 1 MiB
// body, 20 sends of 500,000 empty parameters, 100 token requests with a 1 MiB client_id; none needs
// a valid answer to cost the fake memory) leaves the command's resident memory under 150 MB.
// Before the journal kept copies, clipped, it reached 1.58 GB.
func TestServe_MemoryBounded_HostileLoad(t *testing.T) {
	bin := buildCommand(t)
	p := startProc(t, bin, "SMARTAPPMOCK_LOG_LEVEL=warn")
	const mib = 1 << 20
	fill := func(prefix string, c byte, size int) string {
		return prefix + strings.Repeat(string(c), size-len(prefix))
	}
	type request struct{ path, body string }
	var reqs []request
	for i := range 200 {
		reqs = append(reqs, request{smartappmock.SendPath + "?access_token=static-token-a", fill(fmt.Sprintf("user_type=1&open_id=u%d&msg_type=text&content=", i), 'x', mib)})
	}
	for range 20 {
		reqs = append(reqs, request{smartappmock.SendPath + "?access_token=static-token-a", strings.Repeat("k&", 500_000)})
	}
	for range 100 {
		reqs = append(reqs, request{smartappmock.TokenPath, fill("grant_type=client_credentials&client_secret=s&client_id=", 'c', mib)})
	}
	work := make(chan request)
	var wg sync.WaitGroup
	var failed sync.Map
	for range 4 {
		wg.Go(func() {
			client := &http.Client{Timeout: 30 * time.Second}
			for r := range work {
				resp, err := client.Post(p.base+r.path, "application/x-www-form-urlencoded", strings.NewReader(r.body))
				if err != nil {
					failed.Store(r.path, err)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if len(resp.Header.Get(smartappmock.HeaderReason)) > 2048 {
					failed.Store(r.path, fmt.Errorf("a reason header of %d bytes", len(resp.Header.Get(smartappmock.HeaderReason))))
				}
			}
		})
	}
	for _, r := range reqs {
		work <- r
	}
	close(work)
	wg.Wait()
	failed.Range(func(k, v any) bool {
		t.Errorf("%s: %v", k, v)
		return true
	})
	st := procStatus(t, p.cmd.Process.Pid, "VmRSS", "VmHWM")
	t.Logf("after %d hostile requests (%d MiB sent): VmRSS %d MB, VmHWM (peak) %d MB", len(reqs), len(reqs), st["VmRSS"]/1000, st["VmHWM"]/1000)
	if rss := st["VmRSS"] / 1000; rss >= 150 {
		t.Errorf("VmRSS %d MB after the hostile load; want under 150 MB", rss)
	}
	p.signal(syscall.SIGTERM)
	if err := p.wait(10 * time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v\nstderr:\n%s", err, p.stderr)
	}
}
