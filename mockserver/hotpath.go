package mockserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smartappmock/smartappmock/mockserver/params"
	"github.com/smartappmock/smartappmock/mockserver/requestlog"
	"github.com/smartappmock/smartappmock/store"
)

// isPrintableASCII reports whether every byte of s is printable ASCII (0x20-0x7e): such a string
// goes into a header as it is.
func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// entries recycle the journal entry a send builds (the store and the observer take copies): it
// would otherwise move to the heap, the largest allocation of a send (Options.Observe must not
// keep the pointer it is given).
var entries = sync.Pool{New: func() any { return new(store.Entry) }}

// releaseEntry hands e back to entries, holding nothing of its request.
func releaseEntry(e *store.Entry) {
	*e = store.Entry{}
	entries.Put(e)
}

// redactions remember the redacted form (RedactToken) of the tokens sent lately: the hash was a
// twentieth of a send's CPU in the API core (BenchmarkServeSend), and a client sends the same
// token again and again. Slots are picked by a cheap hash of the token; a miss hashes and takes
// the slot. Tokens longer than 256 bytes are not kept.
type redactions [16]atomic.Pointer[redaction]

type redaction struct{ token, redacted string }

// get returns RedactToken(t).
func (c *redactions) get(t string) string {
	if t == "" || len(t) > 256 {
		return RedactToken(t)
	}
	slot := &c[(len(t)^int(t[len(t)-1])^int(t[len(t)/2]))%len(c)]
	if r := slot.Load(); r != nil && r.token == t {
		return r.redacted
	}
	red := RedactToken(t)
	slot.Store(&redaction{token: strings.Clone(t), redacted: red}) // a copy: t may be a piece of the body
	return red
}

// logRequest writes the one log line of a request. A requestlog.Handler writes it directly; any other handler gets the record itself: Logger.LogAttrs would walk the stack for
// a source position nobody asked for (a profile hot spot under load), and nothing is built when
// the level is off.
func (s *Server) logRequest(ctx context.Context, e *store.Entry) {
	h := s.log.Handler()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	if th, ok := h.(*requestlog.Handler); ok && th.WriteLine(e) {
		return
	}
	_ = h.Handle(ctx, requestlog.Record(time.Now(), e))
}

// errBodyCut is what readBody's error matches (errors.Is) when a request body did not fully
// arrive: the connection ended before the Content-Length was read (io.ErrUnexpectedEOF), a chunked
// body stopped mid-way, the read deadline passed (os.ErrDeadlineExceeded), or the connection was
// reset. The error also matches its cause, and its text is the reason to answer with, e.g.
// "body: cut after 51 of 200 bytes (unexpected EOF)".
//
// A cut body is never a send. The caller answers (when the client is still there) the
// business-layer envelope errno 3001 with that reason, counts nothing (no QPS, daily or window
// slot), parses nothing, and journals the request with that reason and no parameters. The token
// endpoint answers its OAuth invalid_request the same way.
var errBodyCut = errors.New("body: cut")

// bodyCutError is a body that did not fully arrive. It matches errBodyCut and unwraps to its cause.
type bodyCutError struct {
	read      int   // the bytes that arrived
	announced int64 // the Content-Length, or -1 when unknown (chunked)
	cause     error
}

func (e *bodyCutError) Error() string {
	var b strings.Builder
	b.WriteString("body: cut after ")
	b.WriteString(strconv.Itoa(e.read))
	if e.announced >= 0 {
		b.WriteString(" of ")
		b.WriteString(strconv.FormatInt(e.announced, 10))
	}
	b.WriteString(" bytes (")
	b.WriteString(describeReadError(e.cause))
	b.WriteString(")")
	return b.String()
}

func (e *bodyCutError) Unwrap() error { return e.cause }

func (e *bodyCutError) Is(target error) bool { return target == errBodyCut }

// describeReadError names a body read error without the addresses a *net.OpError carries.
func describeReadError(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected EOF"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "read timeout"
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	return params.ClipCopy(err.Error())
}

// readBody reads a request body of at most MaxBodyBytes. A body announced larger by its
// Content-Length is refused at once, unread; otherwise the buffer is sized from the
// Content-Length, so the common small form is read in one allocation. A body read to its end is
// closed.
//
// Its errors are of two kinds, and on either it returns no body:
//   - over the limit, an *http.MaxBytesError, as http.MaxBytesReader does (answer errno 3001
//     "body: larger than 1048576 bytes");
//   - any other read error means the body did not fully arrive: it matches errBodyCut (see there
//     for how to answer).
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBodyBytes {
		return nil, &http.MaxBytesError{Limit: MaxBodyBytes}
	}
	size := 512
	if r.ContentLength > 0 {
		size = int(r.ContentLength) + 1 // +1: room to see EOF without growing
	}
	buf := make([]byte, 0, size)
	var rd io.Reader = r.Body // a Content-Length (at most MaxBodyBytes, checked above) bounds it
	if r.ContentLength <= 0 {
		// Chunked, or a request built in Go with a body of unknown length: the limit is ours.
		rd = http.MaxBytesReader(nil, r.Body, MaxBodyBytes)
	}
	for { // io.ReadAll with a chosen first buffer
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			// Closed once read to its end: net/http would otherwise drain it again after the
			// handler (io.CopyN through a LimitedReader, per request). A body closed after EOF
			// leaves the connection reusable.
			_ = r.Body.Close()
			return buf, nil
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, err
			}
			announced := r.ContentLength
			if announced <= 0 {
				announced = -1
			}
			return nil, &bodyCutError{read: len(buf), announced: announced, cause: err}
		}
	}
}
