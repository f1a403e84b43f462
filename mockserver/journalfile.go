package mockserver

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
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
func (j *JournalFile) Write(e *Entry) error {
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

// journalFileStore is a Store that also writes every appended entry to a JournalFile.
type journalFileStore struct {
	Store
	file *JournalFile
}

// WithJournalFile returns a Store that behaves as s and also writes every journal entry it
// appends (with its sequence number) to file. A write error fails the Append, so the request is
// logged as a journal failure, and the answer is still sent.
func WithJournalFile(s Store, file *JournalFile) Store {
	return &journalFileStore{Store: s, file: file}
}

// Append implements Store.
func (s *journalFileStore) Append(ctx context.Context, e Entry) (uint64, error) {
	seq, err := s.Store.Append(ctx, e)
	if err != nil {
		return seq, err
	}
	e.Seq = seq
	return seq, s.file.Write(&e)
}

// Stats reports the wrapped store's sizes, when it has them (for the metrics).
func (s *journalFileStore) Stats() StoreStats {
	if ss, ok := s.Store.(statsStore); ok {
		return ss.Stats()
	}
	return StoreStats{}
}
