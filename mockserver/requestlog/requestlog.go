// Package requestlog writes the API core's request log lines: a slog TextHandler with a fast
// path that writes a request's line itself, byte for byte what the TextHandler would write.
package requestlog

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/store"
)

// Handler is slog's TextHandler with a fast path for the API core's request lines: a Server
// logging to it writes each request's line itself (WriteLine), byte for byte what the TextHandler would write
// for the same record (TestRequestLine_AsTextHandler holds it to that), without building a
// slog.Record. Every other record goes through the TextHandler. Measured under load (wrk, the
// default log on): the TextHandler was a fifth of the API core's CPU per send, the direct line a
// tenth of that (mockserver's BenchmarkServeSend/TextLogHandler).
//
// Options that change how attributes are written (ReplaceAttr, AddSource) turn the fast path off:
// every line then goes through the TextHandler.
type Handler struct {
	slog.Handler // the TextHandler, writing to w
	w            *lockedWriter
	fast         bool
	second       atomic.Pointer[logSecond] // the current second's text
}

// NewHandler returns a Handler writing to w with opts (nil: the defaults), as
// slog.NewTextHandler(w, opts) would.
func NewHandler(w io.Writer, opts *slog.HandlerOptions) *Handler {
	if opts == nil {
		opts = &slog.HandlerOptions{}
	}
	lw := &lockedWriter{w: w}
	return &Handler{Handler: slog.NewTextHandler(lw, opts), w: lw, fast: opts.ReplaceAttr == nil && !opts.AddSource}
}

// lockedWriter serializes the writes of the TextHandler and of the fast path: each is one line.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// lineBufs recycles the buffers of request lines.
var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// WriteLine writes the request line of e in one Write; it reports false when h has no fast path
// (options that change how attributes are written): the caller then logs Record(time.Now(), e).
func (h *Handler) WriteLine(e *store.Entry) bool {
	if !h.fast {
		return false
	}
	bp := lineBufs.Get().(*[]byte)
	b := appendRequestLine((*bp)[:0], time.Now(), e, &h.second)
	_, _ = h.w.Write(b)
	if cap(b) <= 4<<10 {
		*bp = b
		lineBufs.Put(bp)
	}
	return true
}

// Record is the record of a request's log line as slog builds it: what the fast path must
// match, and what a handler without one is given. The attributes are those of appendRequestLine, in order.
func Record(t time.Time, e *store.Entry) slog.Record {
	rec := slog.NewRecord(t, slog.LevelInfo, "request", 0)
	outcome := e.Outcome()
	if kind := e.FaultKind; kind != "" {
		// The client never read the decided answer: the line says what it got, and where.
		outcome = "fault " + kind
		rec.AddAttrs(slog.String("decided", e.Outcome()), slog.String("fault_phase", e.FaultPhase))
	}
	rec.AddAttrs(slog.String("id", e.ID), slog.String("app", e.App), slog.String("endpoint", e.Endpoint),
		slog.String("outcome", outcome), slog.String("reason", e.Reason),
		slog.Int64("latency_us", e.LatencyMicros))
	if len(e.Warnings) > 0 {
		kinds := make([]byte, 0, 64)
		for i, w := range e.Warnings {
			if i > 0 {
				kinds = append(kinds, ',')
			}
			kinds = append(kinds, w.Kind...)
		}
		rec.AddAttrs(slog.String("warnings", string(kinds)))
	}
	return rec
}

// appendRequestLine appends the line slog's TextHandler (default options, no groups or
// attributes of its own) writes for Record(t, e). second, when not nil, caches the text
// of t's second (see appendLogTime).
func appendRequestLine(b []byte, t time.Time, e *store.Entry, second *atomic.Pointer[logSecond]) []byte {
	b = append(b, "time="...)
	b = appendLogTime(b, t.Round(0), second)
	b = append(b, " level=INFO msg=request"...)
	kind := e.FaultKind
	if kind != "" {
		b = append(b, " decided="...)
		b = appendOutcome(b, e)
		b = append(b, " fault_phase="...)
		b = appendLogString(b, e.FaultPhase)
	}
	b = append(b, " id="...)
	b = appendLogString(b, e.ID)
	b = append(b, " app="...)
	b = appendLogString(b, e.App)
	b = append(b, " endpoint="...)
	b = appendLogString(b, e.Endpoint)
	b = append(b, " outcome="...)
	if kind != "" {
		b = appendLogStrings(b, "fault ", kind)
	} else {
		b = appendOutcome(b, e)
	}
	b = append(b, " reason="...)
	b = appendLogString(b, e.Reason)
	b = append(b, " latency_us="...)
	b = strconv.AppendInt(b, e.LatencyMicros, 10)
	if len(e.Warnings) > 0 {
		b = append(b, " warnings="...)
		start := len(b)
		for i, w := range e.Warnings {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, w.Kind...)
		}
		if needsQuoting(b[start:]) {
			kinds := string(b[start:])
			b = strconv.AppendQuote(b[:start], kinds)
		}
	}
	return append(b, '\n')
}

// appendOutcome appends e.Outcome() as the TextHandler writes it.
func appendOutcome(b []byte, e *store.Entry) []byte {
	if e.Layer == smartappmock.LayerOAuth || !isPlainWord(string(e.Layer)) {
		return appendLogString(b, e.Outcome())
	}
	// "<layer> <code>": quoted (a space), nothing to escape.
	b = append(b, '"')
	b = append(b, e.Layer...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.Code), 10)
	return append(b, '"')
}

// isPlainWord reports whether s is a non-empty run of ASCII letters and underscores.
func isPlainWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return s != ""
}

// appendLogStrings appends the string x+y as the TextHandler writes it.
func appendLogStrings(b []byte, x, y string) []byte {
	start := len(b)
	b = append(b, x...)
	b = append(b, y...)
	if needsQuoting(b[start:]) {
		s := string(b[start:])
		b = strconv.AppendQuote(b[:start], s)
	}
	return b
}

// appendLogString appends s as the TextHandler writes a string value: as it is, or quoted when it
// needs quoting.
func appendLogString(b []byte, s string) []byte {
	if needsQuoting(s) {
		return appendQuoted(b, s)
	}
	return append(b, s...)
}

// appendQuoted is strconv.AppendQuote, with a fast path for printable ASCII without a quote or a
// backslash (most reasons): nothing to escape.
func appendQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// needsQuoting is the TextHandler's rule: empty, or holding a space, '=', '"', an ASCII control
// character, invalid UTF-8, or a rune that is a space or not printable.
func needsQuoting[S string | []byte](s S) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == '=' || c == '"' {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:min(len(s), i+utf8.UTFMax)]))
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// logSecond is the text of one second of a zone as appendRFC3339Millis writes it: the date and
// time up to the seconds, and the zone.
type logSecond struct {
	unix         int64
	loc          *time.Location
	prefix, zone string // "2006-01-02T15:04:05" and "Z07:00"
}

// appendLogTime appends appendRFC3339Millis(b, t), the date, time and zone taken from c when it
// holds t's second (formatting them was a third of the line's cost); the milliseconds are
// appended here. Years outside 0-9999 are left to appendRFC3339Millis.
func appendLogTime(b []byte, t time.Time, c *atomic.Pointer[logSecond]) []byte {
	if c == nil {
		return appendRFC3339Millis(b, t)
	}
	sec := c.Load()
	if sec == nil || sec.unix != t.Unix() || sec.loc != t.Location() {
		if y := t.Year(); y < 0 || y > 9999 {
			return appendRFC3339Millis(b, t)
		}
		text := t.Format(time.RFC3339) // "2006-01-02T15:04:05Z07:00"
		const n = len("2006-01-02T15:04:05")
		sec = &logSecond{unix: t.Unix(), loc: t.Location(), prefix: text[:n], zone: text[n:]}
		c.Store(sec)
	}
	b = append(b, sec.prefix...)
	ms := t.Nanosecond() / 1e6
	b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, sec.zone...)
}

// appendRFC3339Millis is the TextHandler's time format: RFC 3339 with exactly three digits of
// milliseconds (truncated).
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...) // drop the 4th digit
}
