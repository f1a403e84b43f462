package main

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// newDrainServer serves h on loopback, its requests counted by the returned handlers.
func newDrainServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *handlers) {
	t.Helper()
	var inflight handlers
	srv := httptest.NewUnstartedServer(inflight.wrap(h))
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &inflight
}

// TestDrain_StalledBodyClosedAfterGrace: a request whose body never arrives does not hold drain:
// after the grace its connection is closed, its handler returns (its read fails), and drain
// reports no error.
func TestDrain_StalledBodyClosedAfterGrace(t *testing.T) {
	t.Parallel()
	readErr := make(chan error, 1)
	srv, inflight := newDrainServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
	})
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(conn).ReadString('\n'); err != nil || !strings.Contains(line, "100") {
		t.Fatalf("want 100 Continue (the handler reads), got %q, %v", line, err)
	}
	if err := drain([]stoppable{srv.Config}, inflight, 50*time.Millisecond, 10*time.Second, slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("drain: %v", err)
	}
	select {
	case err := <-readErr:
		if err == nil {
			t.Error("the stalled body was read to the end; want a read error")
		}
	default:
		t.Error("drain returned before the stalled request's handler")
	}
}

// TestDrain_InFlightRequestFinishes: a request being handled when drain starts is answered (within
// the grace), and drain waits for it.
func TestDrain_InFlightRequestFinishes(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}), make(chan struct{})
	srv, inflight := newDrainServer(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		_, _ = io.WriteString(w, "answered")
	})
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(srv.URL)
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-started
	done := make(chan error, 1)
	go func() {
		done <- drain([]stoppable{srv.Config}, inflight, time.Minute, time.Minute, slog.New(slog.DiscardHandler))
	}()
	close(release)
	if err := <-done; err != nil {
		t.Errorf("drain: %v", err)
	}
	if g := <-got; g != "answered" {
		t.Errorf("the in-flight request got %q, want its answer", g)
	}
}
