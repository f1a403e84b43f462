package redisstore

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// skipReason is the one line of a real-Redis test without redis-server.
const skipReason = "needs redis-server: apt-get install redis-server"

// needRedisServer skips the test when redis-server is not installed, or fails it under CI=true.
func needRedisServer(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(skipReason)
		}
		t.Skip(skipReason)
	}
	return bin
}

// redisServer is a redis-server that a test started on a unix socket of its own, without
// persistence; it is stopped by its PID at the test's cleanup.
type redisServer struct {
	t    testing.TB
	bin  string
	dir  string
	sock string
	cmd  *exec.Cmd
}

// startRedisServer starts a redis-server for t (skipping or failing t without one).
func startRedisServer(t testing.TB) *redisServer {
	t.Helper()
	bin := needRedisServer(t)
	// A short folder: a unix socket's path has at most 107 bytes, and t.TempDir embeds the test
	// name.
	dir, err := os.MkdirTemp("", "redisstore")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	r := &redisServer{t: t, bin: bin, dir: dir, sock: filepath.Join(dir, "redis.sock")}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// url is the server's store URL.
func (r *redisServer) url() string { return "unix://" + r.sock }

// start starts the server and waits until its socket accepts connections.
func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", "0", "--unixsocket", r.sock, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--logfile", filepath.Join(r.dir, "redis.log"))
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("unix", r.sock)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			r.stop()
			r.t.Fatalf("redis-server did not listen on %s: %v\n%s", r.sock, err, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop stops the server by its PID and waits for it to exit.
func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-done
	}
	r.cmd = nil
}

// testPrefixRoot starts the key prefixes of the tests.
const testPrefixRoot = "smartappmock-test:"

// prefixes makes the key prefixes of stores that share one Redis unique.
var prefixes atomic.Int64

// testPrefix returns a prefix no other store of this test binary (or an earlier run on a shared
// Redis) uses.
func testPrefix() string {
	return fmt.Sprintf("%s%d-%d:", testPrefixRoot, time.Now().UnixNano(), prefixes.Add(1))
}

// realRedisURL returns the URL of a real Redis for t: SMARTAPPMOCK_TEST_REDIS when CI started
// one, else a redis-server of t's own.
func realRedisURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("SMARTAPPMOCK_TEST_REDIS"); u != "" {
		return u
	}
	return startRedisServer(t).url()
}

// openT opens a store for t and closes it at t's cleanup.
func openT(t testing.TB, url string, opts Options) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if strings.HasPrefix(opts.Prefix, testPrefixRoot) { // a Redis that other tests share
			dropKeys(s)
		}
		s.Close()
	})
	return s
}

// dropKeys deletes the keys of s's prefix (the prefixes of the tests have no glob characters).
func dropKeys(s *Store) {
	ctx := context.Background()
	it := s.rdb.Scan(ctx, 0, s.opts.Prefix+"*", 1000).Iterator()
	for it.Next(ctx) {
		s.rdb.Del(ctx, it.Val())
	}
}

// miniT opens a store on a miniredis of t's own.
func miniT(t testing.TB, opts Options) (*Store, *miniredis.Miniredis) {
	t.Helper()
	m := miniredis.RunT(t)
	return openT(t, "redis://"+m.Addr(), opts), m
}

// newAuthMini starts a miniredis that requires user and password.
func newAuthMini(t testing.TB, user, password string) *miniredis.Miniredis {
	m := miniredis.RunT(t)
	m.RequireUserAuth(user, password)
	return m
}
