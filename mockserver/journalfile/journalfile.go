// Package journalfile writes a durable NDJSON journal: one JSON value per line, appended to a file
// that stays readable after a crash and keeps the lines it could not yet write while the disk
// refuses them.
//
// It knows nothing of the server's types: the caller marshals each entry and hands over the line,
// in the order the lines must appear (sequence order).
//
// Three promises:
//   - After a crash, Open ends a torn last line (one without its newline) by moving the fragment
//     aside, into path+".torn", so every line of the file is a whole line and the next one starts
//     on its own line. Nothing is thrown away.
//   - Lines are buffered and written every FlushEvery, on Flush and on Close (which also fsyncs).
//   - A write error (a full disk) makes the file degraded: Err reports it, the lines stay buffered
//     (up to MaxPendingBytes; beyond that new lines are dropped and counted) and are written again
//     at each flush; when the disk accepts them, writing resumes where it stopped, and Err is nil
//     again.
package journalfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// FlushEvery is how often buffered lines are written to the file (and, while the file is
// degraded, how often a write is retried).
const FlushEvery = 200 * time.Millisecond

// MaxPendingBytes bounds the lines waiting for the disk (8 MiB): while the file is degraded, a line
// that would take the waiting lines over it is dropped, and counted in Dropped.
const MaxPendingBytes = 8 << 20

// flushAt is the buffered size at which Write writes at once instead of waiting for the next
// periodic flush.
const flushAt = 64 << 10

var (
	// ErrClosed is what Write returns after Close.
	ErrClosed = errors.New("journalfile: closed")
	// ErrBacklogFull is what Write's error matches when the line was dropped because
	// MaxPendingBytes of lines are already waiting for the disk.
	ErrBacklogFull = errors.New("journalfile: too many lines waiting for the disk")
	// ErrNewline is what Write returns for a line with a newline inside it (it would be two lines).
	ErrNewline = errors.New("journalfile: a line must not contain a newline")
)

// sink is where the lines go: an *os.File, or a writer that fails on demand in tests.
type sink interface {
	io.Writer
	Sync() error
	Close() error
}

// File is an NDJSON journal file open for appending. Its methods are safe for concurrent use.
type File struct {
	path  string
	out   sink
	limit int // MaxPendingBytes, smaller in tests
	torn  int64

	flushMu sync.Mutex // serialises writes to out; guards held
	held    []byte     // lines taken from pending and not yet written (a failed write's rest)

	mu      sync.Mutex
	pending []byte // lines written since the last flush
	heldLen int    // len(held), for the bound
	err     error  // the last write error; nil once a write succeeds
	closed  bool

	written atomic.Uint64
	dropped atomic.Uint64

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Open opens the NDJSON file at path for appending, creating it if needed, and starts its periodic
// flush. If the file ends in a torn line (no newline at the end, as a crash leaves it), the
// fragment after the last newline is appended to path+".torn" (followed by a newline; that file is
// for people, not NDJSON) and cut from the file, so the file holds whole lines only. TornBytes
// says how many bytes were moved.
func Open(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal file: %w", err)
	}
	torn, err := moveTornLine(f, path)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("journal file %s: torn last line: %w", path, err)
	}
	j := newFile(path, f, FlushEvery)
	j.torn = torn
	return j, nil
}

// newFile returns a File writing to out, flushing every flushEvery (never, if 0).
func newFile(path string, out sink, flushEvery time.Duration) *File {
	j := &File{path: path, out: out, limit: MaxPendingBytes, stop: make(chan struct{}), done: make(chan struct{})}
	if flushEvery <= 0 {
		close(j.done)
		return j
	}
	go j.flushLoop(flushEvery)
	return j
}

// moveTornLine moves the bytes after the last newline of f (a regular file) to path+".torn" and
// truncates f before them. It returns how many bytes it moved.
func moveTornLine(f *os.File, path string) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	if !fi.Mode().IsRegular() || size == 0 {
		return 0, nil
	}
	start, err := lineStart(f, size)
	if err != nil || start == size {
		return 0, err
	}
	t, err := os.OpenFile(path+".torn", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(t, io.NewSectionReader(f, start, size-start))
	if err == nil {
		_, err = t.Write([]byte{'\n'})
	}
	if err == nil {
		err = t.Sync()
	}
	if cerr := t.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	// The fragment is safe in .torn before it leaves the file: a crash here at worst copies it
	// twice.
	if err := f.Truncate(start); err != nil {
		return 0, err
	}
	return size - start, f.Sync()
}

// lineStart returns the offset just after the last newline of the first size bytes of f (0 when
// there is none; size when the last byte is a newline).
func lineStart(f *os.File, size int64) (int64, error) {
	buf := make([]byte, 64<<10)
	end := size
	for end > 0 {
		n := min(int64(len(buf)), end)
		if _, err := f.ReadAt(buf[:n], end-n); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return end - n + int64(i) + 1, nil
		}
		end -= n
	}
	return 0, nil
}

func (j *File) flushLoop(every time.Duration) {
	defer close(j.done)
	t := time.NewTicker(every)
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

// Write appends one line: a JSON value without a newline inside (one trailing newline is
// allowed and ignored). The line is copied, so the caller may reuse it. Lines appear in the file
// in the order of the Write calls; the caller keeps them in sequence order.
//
// Write returns nil when the line is buffered, even while the file is degraded (the line waits for
// the disk; see Err). It returns an error matching ErrBacklogFull when the line was dropped because
// MaxPendingBytes are already waiting, ErrClosed after Close, and ErrNewline for a line with a
// newline inside; each of these lines counts in Dropped.
func (j *File) Write(line []byte) error {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	if bytes.IndexByte(line, '\n') >= 0 {
		j.dropped.Add(1)
		return ErrNewline
	}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		j.dropped.Add(1)
		return ErrClosed
	}
	if waiting := j.heldLen + len(j.pending); waiting+len(line)+1 > j.limit {
		cause := j.err
		j.mu.Unlock()
		j.dropped.Add(1)
		if cause != nil {
			return fmt.Errorf("%w (%d bytes waiting; line dropped): %w", ErrBacklogFull, waiting, cause)
		}
		return fmt.Errorf("%w (%d bytes waiting; line dropped)", ErrBacklogFull, waiting)
	}
	j.pending = append(j.pending, line...)
	j.pending = append(j.pending, '\n')
	now := len(j.pending) >= flushAt && j.err == nil
	j.mu.Unlock()
	if now {
		_ = j.Flush() // an error leaves the file degraded, the line kept: Err reports it
	}
	return nil
}

// Flush writes the buffered lines to the file (without fsync). On a write error the file is
// degraded: the unwritten bytes stay buffered for the next flush, and the error is returned and
// reported by Err until a write succeeds.
func (j *File) Flush() error {
	j.flushMu.Lock()
	defer j.flushMu.Unlock()
	j.mu.Lock()
	switch {
	case len(j.pending) == 0:
	case len(j.held) == 0:
		j.held, j.pending = j.pending, j.held[:0]
	default:
		j.held = append(j.held, j.pending...)
		j.pending = j.pending[:0]
	}
	j.heldLen = len(j.held)
	err := j.err
	j.mu.Unlock()
	if len(j.held) == 0 {
		return err
	}

	n, werr := j.out.Write(j.held)
	if werr == nil && n < len(j.held) {
		werr = io.ErrShortWrite
	}
	j.written.Add(uint64(bytes.Count(j.held[:n], []byte{'\n'})))
	j.held = j.held[:copy(j.held, j.held[n:])]
	if len(j.held) == 0 && cap(j.held) > 4*flushAt {
		j.held = nil // a backlog's buffer is not kept for good
	}

	j.mu.Lock()
	defer j.mu.Unlock()
	j.heldLen = len(j.held)
	j.err = nil
	if werr != nil {
		j.err = fmt.Errorf("journal file %s: %w", j.path, werr)
	}
	return j.err
}

// Err reports why the file is degraded: the last write error, while lines wait for the disk. It
// is nil when the last write succeeded (or none failed). Serve it as the health of the journal
// file.
func (j *File) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// Written returns how many lines reached the file (handed to the operating system; Close
// fsyncs them).
func (j *File) Written() uint64 { return j.written.Load() }

// Dropped returns how many lines were lost: refused by Write (backlog full, closed, newline inside)
// or still unwritten when Close gave up.
func (j *File) Dropped() uint64 { return j.dropped.Load() }

// TornBytes returns how many bytes of a torn last line Open moved to path+".torn" (0 when the
// file ended with a whole line).
func (j *File) TornBytes() int64 { return j.torn }

// Close stops the periodic flush, refuses further lines, writes the buffered ones (one attempt),
// fsyncs and closes the file. Its error reports a failed write, fsync or close, and lines that
// were lost during the run (Dropped), so a caller can exit non-zero when the journal is not
// whole. Later calls return the first call's result.
func (j *File) Close() error {
	j.closeOnce.Do(func() {
		close(j.stop)
		<-j.done
		j.mu.Lock()
		j.closed = true
		j.mu.Unlock()
		err := j.Flush()
		if err != nil {
			// What could not be written is lost now.
			j.flushMu.Lock()
			j.dropped.Add(uint64(bytes.Count(j.held, []byte{'\n'})))
			j.flushMu.Unlock()
		}
		if serr := j.out.Sync(); err == nil && serr != nil {
			err = fmt.Errorf("journal file %s: %w", j.path, serr)
		}
		if cerr := j.out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("journal file %s: %w", j.path, cerr)
		}
		if d := j.dropped.Load(); d > 0 {
			if err == nil {
				err = fmt.Errorf("journal file %s: %d lines dropped during the run", j.path, d)
			} else {
				err = fmt.Errorf("%w (%d lines dropped during the run)", err, d)
			}
		}
		j.closeErr = err
	})
	return j.closeErr
}
