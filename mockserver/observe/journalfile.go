package observe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smartappmock/smartappmock/mockserver/journalfile"
	"github.com/smartappmock/smartappmock/store"
)

// JournalSink copies every entry of a store's journal to an NDJSON file (package journalfile), in
// sequence order: a subscriber of the store's live feed, so it also holds what other servers on a
// shared store recorded, and nothing that an admin reset or the journal cap drops is lost from the
// file. The file's guarantees (a torn last line moved aside on open, lines kept while the disk
// refuses them, writing resumed when it accepts them) are journalfile's.
type JournalSink struct {
	st   store.Store
	file *journalfile.File
	log  *slog.Logger

	cursor   atomic.Uint64
	missed   atomic.Uint64 // entries the feed no longer had when the sink asked for them
	encoding atomic.Uint64 // entries that could not be marshalled (none, in practice)
	stop     context.CancelFunc
	done     chan struct{}
	closeMu  sync.Mutex
}

// StartJournalSink starts copying the entries recorded after the store's current head to file. The
// sink owns the file from now on: Close closes it.
func StartJournalSink(st store.Store, file *journalfile.File, log *slog.Logger) (*JournalSink, error) {
	head, err := st.Head(context.Background())
	if err != nil {
		return nil, fmt.Errorf("journal file: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &JournalSink{st: st, file: file, log: log, stop: stop, done: make(chan struct{})}
	s.cursor.Store(head)
	go s.run(ctx)
	return s, nil
}

func (s *JournalSink) run(ctx context.Context) {
	defer close(s.done)
	degraded := false // the state last logged, so that a full disk logs twice, not once per line
	for {
		// A wake-up at least every second, so that a disk that fails (or recovers) between entries
		// is logged without waiting for the next entry.
		fctx, cancel := context.WithTimeout(ctx, time.Second)
		es, err := s.st.Feed(fctx, s.cursor.Load(), 512)
		cancel()
		s.logHealth(&degraded)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if fctx.Err() != nil {
				continue // nothing new within a second
			}
			s.log.Error("journal file: reading the feed", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		for i := range es {
			if cur := s.cursor.Load(); es[i].Seq > cur+1 {
				gap := es[i].Seq - cur - 1
				s.missed.Add(gap)
				s.log.Error("journal file: entries lost (the feed moved on before they were written)", "count", gap)
			}
			s.write(&es[i])
			s.cursor.Store(es[i].Seq)
		}
	}
}

// logHealth logs the file's turn from well to degraded and back; degraded is the state last logged.
func (s *JournalSink) logHealth(degraded *bool) {
	err := s.file.Err()
	switch {
	case err != nil && !*degraded:
		*degraded = true
		s.log.Error("journal file: degraded: lines wait for the disk (up to a bound, then they are dropped)", "err", err)
	case err == nil && *degraded:
		*degraded = false
		s.log.Info("journal file: writing resumed", "dropped", s.Dropped())
	}
}

// write appends one entry. A line the file drops is counted there (Dropped) and logged by
// logHealth's degraded spell, not once per line.
func (s *JournalSink) write(e *store.Entry) {
	line, err := json.Marshal(e)
	if err != nil {
		s.encoding.Add(1)
		s.log.Error("journal file: entry not written", "seq", e.Seq, "err", err)
		return
	}
	_ = s.file.Write(line)
}

// Written returns how many entries reached the file.
func (s *JournalSink) Written() uint64 { return s.file.Written() }

// Dropped returns how many entries are not in the file and never will be: dropped by the file
// (the disk refused them for too long), or gone from the feed before the sink read them.
func (s *JournalSink) Dropped() uint64 {
	return s.file.Dropped() + s.missed.Load() + s.encoding.Load()
}

// Err reports why the journal file is not whole: the disk's error while lines wait for it, or the
// count of entries dropped during the run (the file goes on after them). It is nil while every
// entry recorded so far is in the file or on its way. Pass it as admin.Options.Health.
func (s *JournalSink) Err() error {
	if err := s.file.Err(); err != nil {
		return err
	}
	if n := s.Dropped(); n > 0 {
		return fmt.Errorf("journal file: %d entries dropped during the run (writing has resumed)", n)
	}
	return nil
}

// Close writes every entry recorded up to now (waiting at most until ctx ends), stops, and flushes,
// fsyncs and closes the file. Call it after the HTTP servers have stopped, so the file holds one
// line per answered request. Its error reports entries not written (Dropped) and a failed write,
// fsync or close: a caller exits non-zero on it.
func (s *JournalSink) Close(ctx context.Context) error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	head, err := s.st.Head(ctx)
	for err == nil && s.cursor.Load() < head {
		select {
		case <-ctx.Done():
			err = fmt.Errorf("journal file: %d entries not written: %w", head-s.cursor.Load(), ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	s.stop()
	<-s.done
	errs := []error{err, s.file.Close()}
	if n := s.missed.Load() + s.encoding.Load(); n > 0 {
		errs = append(errs, fmt.Errorf("journal file: %d entries never reached it", n))
	}
	return errors.Join(errs...)
}
