package sandbox

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
)

// inboxBenchConfig is the bench's configuration (bench/bench.yaml): one configured app with a
// fixed token, a window so wide that every send succeeds, and a second app the other tabs watch.
const inboxBenchConfig = `
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
  - id: "20002"
    client_id: other-client
    client_secret: other-secret
`

// streamReader is one open inbox tab: it reads an event stream as fast as it comes and, when the
// fake ends the stream, reconnects as a browser does (after the stream's retry: 2 s) with
// Last-Event-ID, until ctx ends.
type streamReader struct {
	frames, bytes, ends atomic.Int64
}

func (s *streamReader) run(ctx context.Context, client *http.Client, url string, ready func()) {
	var last string
	once := sync.Once{}
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if last != "" {
			req.Header.Set("Last-Event-ID", last)
		}
		res, err := client.Do(req)
		if err == nil {
			buf := make([]byte, 32<<10)
			for {
				n, err := res.Body.Read(buf)
				if n > 0 {
					once.Do(ready)
					chunk := buf[:n]
					s.bytes.Add(int64(n))
					s.frames.Add(int64(bytes.Count(chunk, []byte("\nevent: entry\n")) + bytes.Count(chunk[:min(len(chunk), 14)], []byte("event: entry\n"))))
					if i := bytes.LastIndex(chunk, []byte("id: ")); i >= 0 {
						if j := bytes.IndexByte(chunk[i:], '\n'); j > 0 {
							last = string(chunk[i+4 : i+j])
						}
					}
				}
				if err != nil {
					break
				}
			}
			res.Body.Close()
		}
		if ctx.Err() != nil {
			return
		}
		s.ends.Add(1)
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
}

// BenchmarkSend_InboxStreams measures valid sends per second through a real listener on
// loopback while N inbox tabs hold the live stream open in the same process: none, N watching the
// app the sends go to (every entry is theirs: the worst case), and N watching another app. Each
// tab reads as fast as the stream comes (reading costs the same two cores). It reports sends/s,
// the entry frames the tabs received per second, and how often the fake ended a stream (a tab too
// far behind is dropped; it reconnects after 2 s), and the process's CPU time per send.
func BenchmarkSend_InboxStreams(b *testing.B) {
	for _, tc := range []struct {
		name    string
		streams int
		app     string
	}{
		{"streams=0", 0, ""},
		{"streams=500/same-app", 500, "20001"},
		{"streams=500/other-app", 500, "20002"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			srv, err := newSandbox(mockserver.Options{Config: configtest.Parse(b, inboxBenchConfig)})
			if err != nil {
				b.Fatal(err)
			}
			fake := httptest.NewUnstartedServer(srv)
			fake.Config = mockserver.DefaultServerTimeouts().HTTPServer(srv, nil)
			fake.Start()
			defer fake.Close()
			ctx, cancel := context.WithCancel(context.Background())
			readers := make([]streamReader, tc.streams)
			var wg, up sync.WaitGroup
			streamClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: tc.streams + 1, DisableCompression: true}}
			up.Add(tc.streams)
			for i := range readers {
				wg.Go(func() { readers[i].run(ctx, streamClient, fake.URL+"/__admin/ui/events?app="+tc.app, up.Done) })
			}
			up.Wait()
			sendClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			url := fake.URL + smartappmock.SendPath + "?access_token=bench-token"
			const body = "user_type=1&open_id=bench-user&msg_type=text&content=hello%20from%20the%20benchmark"
			var failed atomic.Int64
			var frames0 int64
			for i := range readers {
				frames0 += readers[i].frames.Load()
			}
			var ru0 syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					res, err := sendClient.Post(url, "application/x-www-form-urlencoded", strings.NewReader(body))
					if err != nil {
						failed.Add(1)
						continue
					}
					out, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if string(out) != `{"errno":0,"msg":"success"}` {
						failed.Add(1)
					}
				}
			})
			b.StopTimer()
			var ru1 syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
			elapsed := b.Elapsed().Seconds()
			var frames, ends int64
			for i := range readers {
				frames += readers[i].frames.Load()
				ends += readers[i].ends.Load()
			}
			cancel()
			streamClient.CloseIdleConnections()
			wg.Wait()
			sendClient.CloseIdleConnections()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d of %d sends failed", n, b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed, "sends/s")
			b.ReportMetric(float64(frames-frames0)/elapsed, "frames/s")
			b.ReportMetric(float64(ends), "stream-ends")
			// The process's CPU per send (the fake, the senders and the tabs' readers together):
			// steadier than sends/s on a machine that other work keeps busy.
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/send")
		})
	}
}
