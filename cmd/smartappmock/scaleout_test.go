package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/internal/testenv"
	"github.com/smartappmock/smartappmock/store"
)

// The scale-out test: three replicas of the real binary on one real redis-server, behind a
// round-robin proxy, each check on an app of its own (scaleoutConfig).

// redisSkipReason is the one line of a test that needs redis-server without it.
const redisSkipReason = "needs redis-server: apt-get install redis-server"

// scaleoutConfig is the replicas' configuration: one app per check, each with a fixed token
// ("<app>-token"), the window opened on the first send.
const scaleoutConfig = `version: 1
policy:
  apps: configured
  tokens: issued
  window: {mode: open_on_first_send, duration: 48h, max_replies: 5}
  magic_values: true
  journal_cap: 5000
apps:
  - {id: "burst", client_id: burst-client, client_secret: s, tokens: [burst-token]}
  - {id: "daily", client_id: daily-client, client_secret: s, tokens: [daily-token], limits: {daily: 7}}
  - {id: "plans", client_id: plans-client, client_secret: s, tokens: [plans-token]}
  - {id: "live", client_id: live-client, client_secret: s, tokens: [live-token]}
  - {id: "kill", client_id: kill-client, client_secret: s, tokens: [kill-token]}
  - {id: "outage", client_id: outage-client, client_secret: s, tokens: [outage-token]}
`

// scaleoutDailyLimit is the daily limit of the app "daily".
const scaleoutDailyLimit = 7

// scaleoutRedisPassword is the test Redis's password: it must never show in the replicas' output.
const scaleoutRedisPassword = "scale-0ut-pw"

func TestScaleOut_ThreeReplicasOnOneRedis(t *testing.T) {
	testenv.SkipIfShort(t, "builds the command, starts three replicas, redis-server and HAProxy")
	redisBin := needRedisServerBinary(t)
	dir := shortTempDir(t)
	bin := filepath.Join(dir, "smartappmock")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(scaleoutConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	rs := startRedis(t, redisBin, dir)
	var reps []*replica
	for i := range 3 {
		reps = append(reps, startReplica(t, bin, fmt.Sprintf("replica%d", i+1), "--config", cfg, "--store", rs.url()))
	}
	lb := newRoundRobin(t, reps)
	// HAProxy with the compose file's configuration, when it is installed (CI installs it).
	var hap *haproxyProc
	if hbin, err := exec.LookPath("haproxy"); err == nil {
		hap = startHAProxy(t, hbin, dir, reps)
	} else if testenv.InCI() {
		t.Fatal("needs haproxy (apt-get install haproxy); CI=true, so this is a failure: .ci/setup.d should have installed it")
	} else {
		testenv.Record("haproxy (apt-get install haproxy): the scale-out test ran without its load balancer")
	}

	t.Run("Burst_Exactly5Of300AndEveryReplicaJournalsAll", func(t *testing.T) {
		const n = 300
		answers := sendConcurrently(t, n, 300, func(int) sendArgs {
			return sendArgs{base: lb.URL, token: "burst-token", openID: "burst-user"}
		})
		if got := countCodes(answers); got["business 0"] != 5 || got["business 90001"] != n-5 || len(got) != 2 {
			t.Errorf("answers %v, want 5 business 0 and %d business 90001", got, n-5)
		}
		want := requestIDs(answers)
		for _, r := range reps {
			got := journalIDs(t, r.base, "burst", "burst-user", 7) // pages of 7: many before= cursors
			if missing, extra := diffIDs(want, got); len(missing)+len(extra) > 0 {
				t.Errorf("%s's journal: %d entries, %d sends missing %v, %d extra %v", r.name, len(got), len(missing), clip(missing), len(extra), clip(extra))
			}
		}
	})

	t.Run("DailyLimit_ExactlyNPassAcrossReplicas", func(t *testing.T) {
		answers := sendConcurrently(t, 60, 60, func(i int) sendArgs {
			return sendArgs{base: lb.URL, token: "daily-token", openID: "daily-user-" + strconv.Itoa(i)}
		})
		if got := countCodes(answers); got["business 0"] != scaleoutDailyLimit || got["gateway 17"] != 60-scaleoutDailyLimit || len(got) != 2 {
			t.Errorf("answers %v, want %d business 0 and %d gateway 17", got, scaleoutDailyLimit, 60-scaleoutDailyLimit)
		}
	})

	t.Run("RuleAndFaultPutOnReplica1_DecideTheNextRequestOnReplica3", func(t *testing.T) {
		for _, errno := range []int{90002, 30022, 3001} {
			body := fmt.Sprintf(`{"rules":[{"name":"scaleout %d","match":{"app":"plans","open_id":"ruled"},"answer":{"errno":%d}}]}`, errno, errno)
			adminCall(t, http.MethodPut, reps[0].base+"/__admin/rules", body, http.StatusOK)
			a := send(t, sendArgs{base: reps[2].base, token: "plans-token", openID: "ruled"})
			if a.code() != "business "+strconv.Itoa(errno) {
				t.Errorf("after PUT rules (errno %d) on replica1, replica3 answered %s", errno, a.code())
			}
		}
		adminCall(t, http.MethodPut, reps[0].base+"/__admin/faults", `{"faults":[{"name":"scaleout","kind":"http_503","match":{"open_id":"faulted"},"times":1}]}`, http.StatusOK)
		if a := send(t, sendArgs{base: reps[2].base, token: "plans-token", openID: "faulted"}); a.status != http.StatusServiceUnavailable {
			t.Errorf("after PUT faults on replica1, replica3 answered HTTP %d %s, want 503", a.status, a.body)
		}
		if a := send(t, sendArgs{base: reps[1].base, token: "plans-token", openID: "faulted"}); a.status != http.StatusOK || a.code() != "business 0" {
			t.Errorf("the fault's one injection was used on replica3, yet replica2 answered HTTP %d %s", a.status, a.body)
		}
		adminCall(t, http.MethodPut, reps[0].base+"/__admin/rules", `{"rules":[]}`, http.StatusOK)
		adminCall(t, http.MethodPut, reps[0].base+"/__admin/faults", `{"faults":[]}`, http.StatusOK)
	})

	t.Run("LiveStreamOnReplica2_ShowsASendServedByReplica1", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, reps[1].base+"/__admin/ui/events?app=live", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("events: HTTP %d", resp.StatusCode)
		}
		lines := bufio.NewScanner(resp.Body)
		// The stream's first frame ("retry: …") comes once it is subscribed to the feed.
		for lines.Scan() && lines.Text() != "" {
		}
		a := send(t, sendArgs{base: reps[0].base, token: "live-token", openID: "live-user"})
		if a.code() != "business 0" {
			t.Fatalf("send on replica1: %s", a.body)
		}
		for lines.Scan() {
			l := lines.Text()
			if strings.HasPrefix(l, "data: ") && strings.Contains(l, `"live-user"`) {
				return
			}
		}
		t.Errorf("replica2's live stream ended without the send served by replica1 (request %s): %v", a.id, lines.Err())
	})

	t.Run("HAProxyConfig_SpreadsSendsOverEveryReplica", func(t *testing.T) {
		hap.need(t)
		answers := sendConcurrently(t, 30, 3, func(i int) sendArgs {
			return sendArgs{base: hap.base, token: "plans-token", openID: "hap-user-" + strconv.Itoa(i)}
		})
		servedBy := map[string]int{}
		for _, a := range answers {
			if a.code() != "business 0" {
				t.Errorf("through HAProxy: HTTP %d %s", a.status, a.body)
			}
			servedBy[a.header.Get("X-Served-By")]++
		}
		if len(servedBy) != 3 || servedBy["replica1"] == 0 || servedBy["replica2"] == 0 || servedBy["replica3"] == 0 {
			t.Errorf("HAProxy sent the sends to %v, want every replica", servedBy)
		}
	})

	t.Run("KillOneReplicaMidLoad_OthersServeAndNoAcknowledgedSendIsLost", func(t *testing.T) {
		const n = 240
		var (
			done   atomic.Int32
			killed atomic.Bool
		)
		answers := sendConcurrently(t, n, 8, func(i int) sendArgs {
			if done.Add(1) == n/3 {
				reps[0].kill(t) // kill -9, while the other workers' sends are in flight
				killed.Store(true)
			}
			return sendArgs{base: lb.URL, token: "kill-token", openID: "kill-user-" + strconv.Itoa(i), after: &killed}
		})
		var acked, ackedAfterKill int
		for _, a := range answers {
			if a.status == http.StatusOK && a.id != "" {
				acked++
				if a.afterKill {
					ackedAfterKill++
				}
			}
		}
		if !killed.Load() || ackedAfterKill < n/2 {
			t.Errorf("%d sends acknowledged after the kill, want at least %d (the other replicas keep serving)", ackedAfterKill, n/2)
		}
		for _, r := range reps[1:] {
			if a := send(t, sendArgs{base: r.base, token: "kill-token", openID: "after-kill-" + r.name}); a.code() != "business 0" {
				t.Errorf("%s after the kill: HTTP %d %s", r.name, a.status, a.body)
			}
		}
		want := map[string]bool{}
		for _, a := range answers {
			if a.status == http.StatusOK && a.id != "" {
				want[a.id] = true
			}
		}
		got := journalIDs(t, reps[1].base, "kill", "", 500)
		var missing []string
		for id := range want {
			if !got[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%d of %d acknowledged sends are missing from the journal: %v", len(missing), acked, clip(missing))
		}
	})

	t.Run("RedisStopped_ErrorCode2AndNotReady_ThenRecoversWithoutRestarts", func(t *testing.T) {
		live := reps[1:] // replica1 was killed above
		rs.stop()
		for _, r := range live {
			a := send(t, sendArgs{base: r.base, token: "outage-token", openID: "outage-user"})
			if a.status != http.StatusOK || a.body != `{"error_code":2,"error_msg":"Service temporarily unavailable"}` {
				t.Errorf("%s with Redis stopped: HTTP %d %s, want HTTP 200 error_code 2", r.name, a.status, a.body)
			}
			if reason := a.header.Get(smartappmock.HeaderReason); reason == "" || strings.Contains(reason, scaleoutRedisPassword) {
				t.Errorf("%s: %s %q, want the cause without the password", r.name, smartappmock.HeaderReason, reason)
			}
			if body := adminCall(t, http.MethodGet, r.base+"/__admin/ready", "", http.StatusServiceUnavailable); strings.Contains(body, scaleoutRedisPassword) {
				t.Errorf("%s: /__admin/ready shows the password: %s", r.name, body)
			}
			adminCall(t, http.MethodGet, r.base+"/__admin/health", "", http.StatusOK)
		}
		t.Run("TokenEndpoint_ErrorCode2", func(t *testing.T) {
			q := url.Values{"grant_type": {"client_credentials"}, "client_id": {"outage-client"}, "client_secret": {"s"}}
			resp, err := sendClient.Get(live[0].base + smartappmock.TokenPath + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || string(b) != `{"error_code":2,"error_msg":"Service temporarily unavailable"}` {
				t.Errorf("token request with Redis stopped: HTTP %d %s, want HTTP 200 error_code 2 (the store is down: Baidu's \"service temporarily unavailable\")", resp.StatusCode, b)
			}
		})
		t.Run("HAProxyConfig_NoReplicaReady_BackupsAnswerErrorCode2", func(t *testing.T) {
			hap.need(t)
			// Within about two checks (1 s apart) HAProxy takes every replica out; the backups,
			// the same replicas unchecked, then answer.
			a := hap.sendUntil(t, "outage-token", "hap-outage", func(a answer) bool {
				return strings.HasSuffix(a.header.Get("X-Served-By"), "-unready")
			})
			if a.status != http.StatusOK || a.body != `{"error_code":2,"error_msg":"Service temporarily unavailable"}` {
				t.Errorf("through HAProxy with Redis stopped: HTTP %d %s (served by %q), want HTTP 200 error_code 2", a.status, a.body, a.header.Get("X-Served-By"))
			}
		})
		rs.start()
		t.Run("HAProxyConfig_RedisBack_ReplicasReadyAgain", func(t *testing.T) {
			hap.need(t)
			a := hap.sendUntil(t, "outage-token", "hap-back", func(a answer) bool {
				return a.code() == "business 0" && !strings.HasSuffix(a.header.Get("X-Served-By"), "-unready")
			})
			if a.code() != "business 0" {
				t.Errorf("through HAProxy after Redis came back: HTTP %d %s (served by %q)", a.status, a.body, a.header.Get("X-Served-By"))
			}
		})
		for _, r := range live {
			var a answer
			for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				a = send(t, sendArgs{base: r.base, token: "outage-token", openID: "back-" + r.name})
				if a.code() == "business 0" || time.Now().After(deadline) {
					break
				}
			}
			if a.code() != "business 0" {
				t.Errorf("%s 15 s after Redis came back: HTTP %d %s (reason %q), want errno 0", r.name, a.status, a.body, a.header.Get(smartappmock.HeaderReason))
			}
			adminCall(t, http.MethodGet, r.base+"/__admin/ready", "", http.StatusOK)
		}
		for _, r := range live { // the watcher probes every second: it has seen the outage, or the lost journal
			const recovered = "configured state seeded again"
			for deadline := time.Now().Add(5 * time.Second); !strings.Contains(r.stderr.String(), recovered) && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
			}
			if log := r.stderr.String(); !strings.Contains(log, recovered) {
				t.Errorf("%s did not log the store's recovery within 5 s:\n%s", r.name, clipLog(log))
			}
		}
	})

	t.Run("RedisPasswordNeverInTheReplicasOutput", func(t *testing.T) {
		for _, r := range reps {
			out := r.stdout.String() + r.stderr.String()
			if strings.Contains(out, scaleoutRedisPassword) {
				t.Errorf("%s printed the Redis password:\n%s", r.name, clipLog(out))
			}
			if !strings.Contains(out, "xxxxx") {
				t.Errorf("%s never named its store with the password masked", r.name)
			}
		}
	})
}

// haproxyProc is an HAProxy the test runs with deploy/compose/haproxy.cfg, its addresses
// changed to the replicas'; the file's X-Served-By header names the server of each answer.
type haproxyProc struct {
	base string
	log  *syncBuffer
}

// startHAProxy starts HAProxy in front of reps on a free loopback port; it is stopped by its PID
// at cleanup.
func startHAProxy(t *testing.T, bin, dir string, reps []*replica) *haproxyProc {
	t.Helper()
	data, err := os.ReadFile("../../deploy/compose/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0") // a free port for HAProxy, which wants a number
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := string(data)
	for from, to := range map[string]string{
		"bind :8080":                      "bind " + addr,
		"replica1:8080":                   strings.TrimPrefix(reps[0].base, "http://"),
		"replica2:8080":                   strings.TrimPrefix(reps[1].base, "http://"),
		"replica3:8080":                   strings.TrimPrefix(reps[2].base, "http://"),
		"resolvers docker init-addr last": "init-addr last", // no Docker DNS here
	} {
		if !strings.Contains(cfg, from) {
			t.Fatalf("deploy/compose/haproxy.cfg has no %q to change for the test", from)
		}
		cfg = strings.ReplaceAll(cfg, from, to)
	}
	file := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	h := &haproxyProc{base: "http://" + addr, log: &syncBuffer{}}
	cmd := exec.Command(bin, "-db", "-f", file)
	cmd.Stdout, cmd.Stderr = h.log, h.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopProcess(cmd, syscall.SIGTERM) })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := sendClient.Get(h.base + "/__admin/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return h
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("HAProxy did not answer on %s in 10 s: %v\n%s", addr, err, h.log)
		}
	}
}

// need skips the test without HAProxy, or fails it under CI.
func (h *haproxyProc) need(t *testing.T) {
	t.Helper()
	if h == nil {
		testenv.Missing(t, "needs haproxy: apt-get install haproxy")
	}
}

// sendUntil sends through HAProxy until done(answer) holds (at most 100 sends, 100 ms apart) and
// returns the last answer.
func (h *haproxyProc) sendUntil(t *testing.T, token, openID string, done func(answer) bool) answer {
	t.Helper()
	var a answer
	for i := 0; ; i++ { // a user per send: no window fills up
		a = send(t, sendArgs{base: h.base, token: token, openID: openID + "-" + strconv.Itoa(i)})
		if done(a) || i == 100 {
			return a
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// needRedisServerBinary returns the path of redis-server; without it the test skips with one
// line, or fails under CI.
func needRedisServerBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testenv.Missing(t, redisSkipReason)
	}
	return bin
}

// shortTempDir is a temporary folder with a short path (a unix socket's path has at most 107
// bytes, and t.TempDir embeds the test's name), removed at cleanup.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sam-scale")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// redisProc is a redis-server the test started on a unix socket, without persistence; it is
// stopped by its PID.
type redisProc struct {
	t        *testing.T
	bin, dir string
	cmd      *exec.Cmd
}

func startRedis(t *testing.T, bin, dir string) *redisProc {
	t.Helper()
	r := &redisProc{t: t, bin: bin, dir: dir}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *redisProc) sock() string { return filepath.Join(r.dir, "redis.sock") }

// url is the store URL of the server, with its password.
func (r *redisProc) url() string { return "unix://:" + scaleoutRedisPassword + "@" + r.sock() }

// start starts the server and waits (at most 10 s) until its socket accepts connections.
func (r *redisProc) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", "0", "--unixsocket", r.sock(), "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--logfile", filepath.Join(r.dir, "redis.log"),
		"--requirepass", scaleoutRedisPassword)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("unix", r.sock())
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			r.stop()
			r.t.Fatalf("redis-server did not listen on %s: %v\n%s", r.sock(), err, log)
		}
	}
}

// stop stops the server by its PID (SIGTERM, then SIGKILL after 10 s) and waits for it.
func (r *redisProc) stop() {
	if r.cmd == nil {
		return
	}
	stopProcess(r.cmd, syscall.SIGTERM)
	r.cmd = nil
}

// stopProcess signals cmd's process and waits for it, killing it after 10 s.
func stopProcess(cmd *exec.Cmd, sig os.Signal) {
	_ = cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// replica is one running smartappmock process.
type replica struct {
	name   string
	base   string // http://127.0.0.1:port
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	mu     sync.Mutex
	dead   bool
}

var listeningRE = regexp.MustCompile(`listening on (http://\S+)`)

// startReplica starts the binary on a free loopback port and waits (at most 10 s) for its start
// line; it is stopped by its PID at cleanup.
func startReplica(t *testing.T, bin, name string, args ...string) *replica {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "info"}, args...)...)
	for _, kv := range os.Environ() { // none of the developer's SMARTAPPMOCK_* settings
		if !strings.HasPrefix(kv, "SMARTAPPMOCK_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	r := &replica{name: name, cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	cmd.Stderr = r.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.stop() })
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			r.stdout.Write([]byte(sc.Text() + "\n"))
			select {
			case first <- sc.Text():
			default:
			}
		}
	}()
	select {
	case line := <-first:
		m := listeningRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s printed %q", name, line)
		}
		r.base = m[1]
		if !strings.Contains(line, "store: unix://:xxxxx@/") {
			t.Errorf("%s's start line does not name its store, password masked: %q", name, line)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s printed no start line in 10 s:\n%s", name, r.stderr)
	}
	return r
}

// stop stops the replica by its PID (SIGTERM: a graceful shutdown).
func (r *replica) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.dead {
		r.dead = true
		stopProcess(r.cmd, syscall.SIGTERM)
	}
}

// kill ends the replica with SIGKILL (kill -9), by its PID.
func (r *replica) kill(t *testing.T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dead {
		t.Errorf("%s is already stopped", r.name)
		return
	}
	r.dead = true
	stopProcess(r.cmd, syscall.SIGKILL)
}

// newRoundRobin starts a loopback reverse proxy that sends each request to the next replica, and
// to the one after when a replica refuses the connection (a load balancer's health check, in
// short): a request that reached a replica is never sent twice.
func newRoundRobin(t *testing.T, reps []*replica) *roundRobin {
	t.Helper()
	var targets []*url.URL
	for _, r := range reps {
		u, err := url.Parse(r.base)
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, u)
	}
	var next atomic.Uint64
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(targets[0]) }, // the transport picks
		Transport: &nextOnRefusal{targets: targets, next: &next, rt: &http.Transport{MaxIdleConnsPerHost: 64}},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(http.StatusBadGateway) // not acknowledged: the client sees no envelope
		},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: rp}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return &roundRobin{URL: "http://" + ln.Addr().String()}
}

// roundRobin is the test's load balancer.
type roundRobin struct {
	// URL is its base URL.
	URL string
}

// nextOnRefusal is the proxy's transport: round robin, skipping replicas that refuse to connect.
type nextOnRefusal struct {
	targets []*url.URL
	next    *atomic.Uint64
	rt      http.RoundTripper
}

func (n *nextOnRefusal) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	start := n.next.Add(1)
	var err error
	for i := range uint64(len(n.targets)) {
		out := req.Clone(req.Context())
		u := n.targets[(start+i)%uint64(len(n.targets))]
		out.URL.Scheme, out.URL.Host, out.Host = u.Scheme, u.Host, u.Host
		out.Body = io.NopCloser(bytes.NewReader(body))
		var resp *http.Response
		resp, err = n.rt.RoundTrip(out)
		var op *net.OpError
		if err == nil || !errors.As(err, &op) || op.Op != "dial" {
			return resp, err
		}
	}
	return nil, err
}

// sendArgs is one send to make.
type sendArgs struct {
	base, token, openID string
	after               *atomic.Bool // when set, the answer records whether it was set before the send
}

// answer is what a send got.
type answer struct {
	status    int
	body      string
	header    http.Header
	id        string // the request id header: the journal entry's id
	afterKill bool
}

// code is "business N" or "gateway N" from the envelope, "" when it is neither.
func (a answer) code() string {
	var env struct {
		Errno     *int `json:"errno"`
		ErrorCode *int `json:"error_code"`
	}
	if json.Unmarshal([]byte(a.body), &env) != nil {
		return ""
	}
	switch {
	case env.Errno != nil:
		return "business " + strconv.Itoa(*env.Errno)
	case env.ErrorCode != nil:
		return "gateway " + strconv.Itoa(*env.ErrorCode)
	}
	return ""
}

var sendClient = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// send makes one text send; a transport error is an answer with status 0.
func send(t *testing.T, s sendArgs) answer {
	t.Helper()
	var a answer
	if s.after != nil {
		a.afterKill = s.after.Load()
	}
	form := url.Values{"user_type": {"1"}, "open_id": {s.openID}, "msg_type": {"text"}, "content": {"hello"}}
	resp, err := sendClient.Post(s.base+smartappmock.SendPath+"?access_token="+s.token, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return a
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return a
	}
	a.status, a.body, a.header, a.id = resp.StatusCode, string(b), resp.Header, resp.Header.Get(smartappmock.HeaderRequestID)
	return a
}

// sendConcurrently makes n sends with the given number of workers at once and returns every
// answer.
func sendConcurrently(t *testing.T, n, workers int, args func(i int) sendArgs) []answer {
	t.Helper()
	answers := make([]answer, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range workers {
		wg.Go(func() {
			<-start
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				answers[i] = send(t, args(i))
			}
		})
	}
	close(start)
	wg.Wait()
	return answers
}

// countCodes counts the answers by code ("" for none).
func countCodes(answers []answer) map[string]int {
	m := map[string]int{}
	for _, a := range answers {
		m[a.code()]++
	}
	return m
}

// requestIDs returns the request ids of the answers that have one.
func requestIDs(answers []answer) map[string]bool {
	m := map[string]bool{}
	for _, a := range answers {
		if a.id != "" {
			m[a.id] = true
		}
	}
	return m
}

// journalIDs reads an app's journal (one user's, when openID is set) through base, newest first,
// in pages of limit entries that each continue before the previous page's oldest entry.
func journalIDs(t *testing.T, base, app, openID string, limit int) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	var before uint64
	for range 10_000 { // bounded: far more pages than any check needs
		q := url.Values{"app": {app}, "limit": {strconv.Itoa(limit)}}
		if openID != "" {
			q.Set("open_id", openID)
		}
		if before > 0 {
			q.Set("before", strconv.FormatUint(before, 10))
		}
		var page struct {
			Requests []store.Entry `json:"requests"`
		}
		if err := json.Unmarshal([]byte(adminCall(t, http.MethodGet, base+"/__admin/requests?"+q.Encode(), "", http.StatusOK)), &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Requests) == 0 {
			return ids
		}
		for _, e := range page.Requests {
			if before != 0 && e.Seq >= before {
				t.Fatalf("entry %d is not before the cursor %d", e.Seq, before)
			}
			ids[e.ID] = true
			before = e.Seq
		}
	}
	t.Fatal("the journal did not end")
	return nil
}

// diffIDs returns the ids of want missing from got, and the ids of got not in want.
func diffIDs(want, got map[string]bool) (missing, extra []string) {
	for id := range want {
		if !got[id] {
			missing = append(missing, id)
		}
	}
	for id := range got {
		if !want[id] {
			extra = append(extra, id)
		}
	}
	return missing, extra
}

// adminCall makes an admin request, fails the test unless it answers wantStatus, and returns the
// body.
func adminCall(t *testing.T, method, u, body string, wantStatus int) string {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := sendClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Errorf("%s %s: HTTP %d %s, want %d", method, u, resp.StatusCode, b, wantStatus)
	}
	return string(b)
}

// clip shortens a list for a message.
func clip(ids []string) []string {
	if len(ids) > 5 {
		return append(ids[:5:5], "…")
	}
	return ids
}

// clipLog returns the last lines of a log.
func clipLog(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}
