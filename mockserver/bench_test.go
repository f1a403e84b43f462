package mockserver

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver/requestlog"
)

// benchConfig mirrors bench/bench.yaml: one configured app, strict tokens, a window so wide that
// valid sends stay valid.
const benchConfig = `
version: 1
policy:
  apps: configured
  tokens: issued
  window: {mode: open_on_first_send, duration: 48h, max_replies: 1000000000}
  magic_values: true
  journal_cap: 1000
apps:
  - id: "20001"
    client_id: bench-client
    client_secret: bench-secret
    tokens: [bench-token]
`

// discardWriter is a ResponseWriter that keeps the header map and throws the body away, so the
// benchmark measures the server rather than a recorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// benchCase is one send the benchmarks repeat.
type benchCase struct {
	name, query, body, outcome string
}

var benchCases = []benchCase{
	{"ValidText", "access_token=bench-token", "user_type=1&open_id=bench-user&msg_type=text&content=hello%20from%20the%20benchmark&pic_url=", "business 0"},
	{"ValidImage", "access_token=bench-token", "user_type=2&open_id=bench-user&msg_type=image&content=&pic_url=https%3A%2F%2Fexample.com%2Fa.png", "business 0"},
	{"Invalid", "access_token=bench-token", "user_type=3&open_id=&msg_type=video&content=hi", "business 3001"},
	{"TokenError", "access_token=not-a-token", "user_type=1&open_id=bench-user&msg_type=text&content=hi", "gateway 110"},
}

func benchServer(b *testing.B, logger *slog.Logger) *Server {
	b.Helper()
	cfg, err := config.Parse("bench.yaml", []byte(benchConfig))
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(Options{Config: cfg, Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// serveOnce sends one request through the server and returns the outcome header.
func serveOnce(srv *Server, c benchCase, w *discardWriter, body *strings.Reader) string {
	body.Reset(c.body)
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1"+smartappmock.SendPath+"?"+c.query, body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	clear(w.h)
	srv.ServeHTTP(w, req)
	return w.h.Get(smartappmock.HeaderOutcome)
}

// BenchmarkServeSend measures the whole send pipeline (routing, parameters, token gate, spec
// validation, window, journal) for each kind of request, without a logger, with slog's TextHandler and with the command's TextLogHandler.
func BenchmarkServeSend(b *testing.B) {
	loggers := []struct {
		name   string
		logger func() *slog.Logger
	}{
		{"NoLog", func() *slog.Logger { return nil }},
		{"TextLog", func() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }},
		{"TextLogHandler", func() *slog.Logger { return slog.New(requestlog.NewHandler(io.Discard, nil)) }}, // the command's
	}
	for _, lg := range loggers {
		for _, c := range benchCases {
			b.Run(lg.name+"/"+c.name, func(b *testing.B) {
				srv := benchServer(b, lg.logger())
				w := &discardWriter{h: http.Header{}}
				body := strings.NewReader("")
				if got := serveOnce(srv, c, w, body); got != c.outcome {
					b.Fatalf("outcome %q, want %q", got, c.outcome)
				}
				b.ReportAllocs()
				cpu0 := processCPU()
				for b.Loop() {
					serveOnce(srv, c, w, body)
				}
				reportCPU(b, cpu0)
			})
		}
	}
}

// processCPU returns the CPU time (user and system) the process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since cpu0 ("cpu-ns/op": the garbage
// collector's work included), a figure that stays meaningful when other work shares the machine
// and ns/op does not.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if b.N > 0 && cpu0 > 0 {
		b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkServeSendParallel measures contention: every goroutine sends to its own app (many
// apps) or all to one app.
func BenchmarkServeSendParallel(b *testing.B) {
	for _, apps := range []int{1, 64} {
		b.Run("Apps"+strconv.Itoa(apps), func(b *testing.B) {
			var y bytes.Buffer
			y.WriteString("version: 1\npolicy: {apps: configured, tokens: issued, window: {mode: open_on_first_send, max_replies: 1000000000}}\napps:\n")
			for i := range apps {
				n := strconv.Itoa(i)
				y.WriteString("  - {id: \"a" + n + "\", client_id: c" + n + ", client_secret: s, tokens: [t" + n + "]}\n")
			}
			cfg, err := config.Parse("parallel.yaml", y.Bytes())
			if err != nil {
				b.Fatal(err)
			}
			srv, err := New(Options{Config: cfg})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var next int64
			var mu = make(chan struct{}, 1)
			mu <- struct{}{}
			b.RunParallel(func(pb *testing.PB) {
				<-mu
				i := next
				next++
				mu <- struct{}{}
				c := benchCase{query: "access_token=t" + strconv.FormatInt(i%int64(apps), 10), body: benchCases[0].body}
				w := &discardWriter{h: http.Header{}}
				body := strings.NewReader("")
				for pb.Next() {
					if got := serveOnce(srv, c, w, body); got != "business 0" {
						b.Errorf("outcome %q", got)
						return
					}
				}
			})
		})
	}
}
