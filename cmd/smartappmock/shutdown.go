package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smartappmock/smartappmock/mockserver/journalfile"
	"github.com/smartappmock/smartappmock/mockserver/observe"
	"github.com/smartappmock/smartappmock/store"
)

// The shutdown budget: SIGTERM is answered well inside the 10 s that docker stop waits before
// SIGKILL (at most shutdownGrace + handlerWait + journalWait = 6 s).
const (
	// shutdownGrace is how long in-flight requests get to finish once every listener has stopped
	// accepting; the connections still open after it (a stalled body, a stalled tunnel, a tab that
	// stopped reading its event stream) are closed.
	shutdownGrace = 3 * time.Second
	// handlerWait is how long the handlers of closed connections get to return (a read of a closed
	// connection fails at once, so they take microseconds) and record what they answered.
	handlerWait = 1 * time.Second
	// journalWait is how long the journal file gets to take every recorded entry and reach the disk.
	journalWait = 2 * time.Second
)

// stoppable is a server that shuts down gracefully or at once: *http.Server, *proxy.Proxy.
type stoppable interface {
	Shutdown(context.Context) error
	Close() error
}

// drain stops servers: all at once, each stops accepting and closes its idle connections, in-flight
// requests get grace to finish, then what is left is closed and the handlers still running (tracked
// by inflight) get wait to return. It reports how many servers had to be closed.
func drain(servers []stoppable, inflight *handlers, grace, wait time.Duration, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() { errs[i] = s.Shutdown(ctx) })
	}
	wg.Wait()
	var closed int
	var failed []error
	for i, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.DeadlineExceeded):
			closed++
			failed = append(failed, servers[i].Close())
		default:
			failed = append(failed, err)
		}
	}
	if closed > 0 {
		log.Warn("shutdown: connections still busy after the grace period were closed", "grace", grace)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), wait)
	defer wcancel()
	if n, err := inflight.wait(wctx); err != nil {
		failed = append(failed, fmt.Errorf("shutdown: %d requests still running %s after their connections were closed", n, wait))
	}
	return errors.Join(failed...)
}

// handlers counts the requests being handled, so that shutdown can wait for them after closing
// their connections (http.Server.Close does not wait). A request costs two atomic adds; the mutex
// is taken only once somebody waits.
type handlers struct {
	n       atomic.Int64
	waiting atomic.Bool // set by the first wait, never cleared
	mu      sync.Mutex
	idle    chan struct{} // closed when n drops to 0; nil while nobody waits
}

// wrap counts next's requests.
func (h *handlers) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.n.Add(1)
		defer h.done()
		next.ServeHTTP(w, r)
	})
}

func (h *handlers) done() {
	// wait sets waiting before it reads n: either it sees this request gone, or this sees it waiting.
	if h.n.Add(-1) != 0 || !h.waiting.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.idle != nil && h.n.Load() == 0 {
		close(h.idle)
		h.idle = nil
	}
}

// wait returns when no request is being handled, or with ctx's error and how many still are.
func (h *handlers) wait(ctx context.Context) (int, error) {
	h.mu.Lock()
	h.waiting.Store(true)
	if h.n.Load() == 0 {
		h.mu.Unlock()
		return 0, nil
	}
	if h.idle == nil {
		h.idle = make(chan struct{})
	}
	idle := h.idle
	h.mu.Unlock()
	select {
	case <-idle:
		return 0, nil
	case <-ctx.Done():
		return int(h.n.Load()), ctx.Err()
	}
}

// openJournal opens the journal file at path and starts copying the store's new entries to it; it
// returns nil when path is "" (no journal file).
func openJournal(path string, st store.Store, log *slog.Logger) (*observe.JournalSink, error) {
	if path == "" {
		return nil, nil
	}
	jf, err := journalfile.Open(path)
	if err != nil {
		return nil, err
	}
	if n := jf.TornBytes(); n > 0 {
		log.Warn("journal file: it ended in a torn line (the last run was killed); the fragment was moved aside", "bytes", n, "to", path+".torn")
	}
	sink, err := observe.StartJournalSink(st, jf, log)
	if err != nil {
		_ = jf.Close()
		return nil, err
	}
	return sink, nil
}

// closeJournal writes the entries recorded up to now and closes the journal file (nil: none).
func closeJournal(sink *observe.JournalSink) error {
	if sink == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), journalWait)
	defer cancel()
	return sink.Close(ctx)
}

// servers returns the servers besides the HTTP listener's: the proxy's tunnels and HTTPS.
func (s *tlsSide) servers() []stoppable {
	if s.https == nil {
		return []stoppable{s.proxy}
	}
	return []stoppable{s.proxy, s.https}
}

// served returns what the HTTPS server's Serve returned (after it stopped), if it ran.
func (s *tlsSide) served() error {
	if s.https == nil {
		return nil
	}
	if err := <-s.errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
