package mockserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

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

// logRequest writes the one log line of a request. It hands the record to the handler itself:
// Logger.LogAttrs would walk the stack for a source position nobody asked for (a profile hot spot
// under load), and nothing is built when the level is off.
func (s *Server) logRequest(ctx context.Context, e *store.Entry) {
	h := s.log.Handler()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	rec.AddAttrs(slog.String("id", e.ID), slog.String("app", e.App), slog.String("endpoint", e.Endpoint),
		slog.String("outcome", e.Outcome()), slog.String("reason", e.Reason),
		slog.Int64("latency_us", e.LatencyMicros))
	_ = h.Handle(ctx, rec)
}

// readBody reads a request body of at most MaxBodyBytes. A body announced larger by its
// Content-Length is refused at once, unread; otherwise the buffer is sized from the
// Content-Length, so the common small form is read in one allocation. Over the limit it returns
// an *http.MaxBytesError, as http.MaxBytesReader does.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBodyBytes {
		return nil, &http.MaxBytesError{Limit: MaxBodyBytes}
	}
	size := 512
	if r.ContentLength > 0 {
		size = int(r.ContentLength) + 1 // +1: room to see EOF without growing
	}
	buf := make([]byte, 0, size)
	rd := http.MaxBytesReader(nil, r.Body, MaxBodyBytes)
	for { // io.ReadAll with a chosen first buffer
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
