package observe

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smartappmock/smartappmock/store"
)

// JournalFile is a durable copy of the journal: every entry the store appends is written to a file
// as one JSON line (NDJSON), whatever the in-memory cap drops and whatever an admin reset clears.
// Lines are buffered and flushed every FlushEvery, and on Close; close it after the HTTP server's
// graceful shutdown so the file holds one line per answered request.
type JournalFile struct {
	path string

	mu     sync.Mutex
	f      *os.File
	w      *bufio.Writer
	err    error // the first write error; later writes are skipped
	closed bool

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// JournalFileFlushEvery is how often buffered journal lines reach the file.
const JournalFileFlushEvery = 200 * time.Millisecond

// OpenJournalFile opens (creating or appending to) an NDJSON journal file and starts its periodic
// flush.
func OpenJournalFile(path string) (*JournalFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal file: %w", err)
	}
	j := &JournalFile{path: path, f: f, w: bufio.NewWriterSize(f, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go j.flushLoop()
	return j, nil
}

func (j *JournalFile) flushLoop() {
	defer close(j.done)
	t := time.NewTicker(JournalFileFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
			_ = j.Flush()
		}
	}
}

// Write appends one entry as a JSON line.
func (j *JournalFile) Write(e *store.Entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return errors.New("journal file: closed")
	}
	if j.err != nil {
		return j.err
	}
	if _, err := j.w.Write(append(line, '\n')); err != nil {
		j.err = fmt.Errorf("journal file %s: %w", j.path, err)
	}
	return j.err
}

// Flush writes the buffered lines to the file.
func (j *JournalFile) Flush() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed || j.err != nil {
		return j.err
	}
	if err := j.w.Flush(); err != nil {
		j.err = fmt.Errorf("journal file %s: %w", j.path, err)
	}
	return j.err
}

// Close stops the periodic flush, flushes, syncs and closes the file. Later calls return the
// first call's result.
func (j *JournalFile) Close() error {
	j.closeOnce.Do(func() {
		close(j.stop)
		<-j.done
		j.mu.Lock()
		defer j.mu.Unlock()
		j.closed = true
		err := j.err
		if err == nil {
			err = j.w.Flush()
		}
		if err == nil {
			err = j.f.Sync()
		}
		if cerr := j.f.Close(); err == nil {
			err = cerr
		}
		j.closeErr = err
	})
	return j.closeErr
}

// JournalSink copies every entry of a store's journal to a JournalFile, in sequence order: a
// subscriber of the store's live feed, so it also holds what other servers on a shared store
// recorded, and nothing that an admin reset or the journal cap drops is lost from the file.
type JournalSink struct {
	st   store.Store
	file *JournalFile
	log  *slog.Logger

	cursor  atomic.Uint64
	missed  atomic.Uint64
	stop    context.CancelFunc
	done    chan struct{}
	closeMu sync.Mutex
}

// StartJournalSink starts copying the entries recorded after the store's current head to file.
func StartJournalSink(st store.Store, file *JournalFile, log *slog.Logger) (*JournalSink, error) {
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
	for {
		es, err := s.st.Feed(ctx, s.cursor.Load(), 512)
		if err != nil {
			if ctx.Err() != nil {
				return
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
			if gap := es[i].Seq - s.cursor.Load() - 1; es[i].Seq > s.cursor.Load()+1 {
				s.missed.Add(gap)
				s.log.Error("journal file: entries lost (the feed moved on before they were written)", "count", gap)
			}
			if err := s.file.Write(&es[i]); err != nil {
				s.log.Error("journal file: write", "err", err)
			}
			s.cursor.Store(es[i].Seq)
		}
	}
}

// Missed returns how many entries the sink could not write because the feed moved on first.
func (s *JournalSink) Missed() uint64 { return s.missed.Load() }

// Close writes every entry recorded up to now (waiting at most until ctx ends), stops, and closes
// the file. Call it after the HTTP servers' graceful shutdown, so the file holds one line per
// answered request.
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
	return errors.Join(err, s.file.Close())
}
