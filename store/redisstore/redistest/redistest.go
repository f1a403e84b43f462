// Package redistest starts a redis-server of a test's own: on a unix socket in a temporary
// folder, without persistence, stopped by its PID when the test ends. A test without the
// redis-server binary skips with a one-line reason, or fails under CI=true.
package redistest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/internal/testenv"
)

// SkipReason is the one line of a real-Redis test without redis-server.
const SkipReason = "needs redis-server: apt-get install redis-server"

// Need returns the path of redis-server; without it, it skips t, or fails t under CI=true. Under
// -short it skips t first.
func Need(t testing.TB) string {
	t.Helper()
	testenv.SkipIfShort(t, "starts redis-server")
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testenv.Missing(t, SkipReason)
	}
	return bin
}

// Server is a redis-server that a test started on a unix socket of its own, without
// persistence; it is stopped by its PID at the test's cleanup.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	sock string
	cmd  *exec.Cmd
}

// Start starts a redis-server for t (skipping or failing t without one) and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Need(t)
	// A short folder: a unix socket's path has at most 107 bytes, and t.TempDir embeds the test
	// name.
	dir, err := os.MkdirTemp("", "redisstore")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	r := &Server{t: t, bin: bin, dir: dir, sock: filepath.Join(dir, "redis.sock")}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// URL is the server's store URL (unix://…).
func (r *Server) URL() string { return "unix://" + r.sock }

// Start starts the server (again, after Stop) and waits until its socket accepts connections.
func (r *Server) Start() {
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
			r.Stop()
			r.t.Fatalf("redis-server did not listen on %s: %v\n%s", r.sock, err, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Signal sends sig to the server by its PID: SIGSTOP stalls it (it neither answers nor closes
// its connections), SIGCONT resumes it.
func (r *Server) Signal(sig os.Signal) {
	r.t.Helper()
	if r.cmd == nil {
		r.t.Fatal("redistest: the server is not running")
	}
	if err := r.cmd.Process.Signal(sig); err != nil {
		r.t.Fatalf("redistest: signal %v: %v", sig, err)
	}
}

// Stop stops the server by its PID and waits for it to exit.
func (r *Server) Stop() {
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
