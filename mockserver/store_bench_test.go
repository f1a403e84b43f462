package mockserver

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
	"github.com/smartappmock/smartappmock/store/redisstore"
	"github.com/smartappmock/smartappmock/store/redisstore/redistest"
)

// tripCounter is a go-redis hook that counts round trips (a command, or a pipeline), leaving
// out a new connection's handshake.
type tripCounter struct{ n atomic.Int64 }

func (c *tripCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (c *tripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		switch cmd.Name() {
		case "hello", "auth", "select", "client":
		default:
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (c *tripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// BenchmarkServeSendStore measures the whole handler with a valid send on each store: the
// in-memory store and a redis-server of its own on a unix socket (skipped without redis-server,
// failed under CI=true). Eight concurrent requests per core, as a loaded server has them; it
// reports sends/s, the process's CPU per send (cpu-ns/op: on Redis, the server's side of a send
// without Redis's own work) and, on Redis, round trips per send.
func BenchmarkServeSendStore(b *testing.B) {
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			srv, trips := benchStoreServer(b, st.open)
			c := benchCases[0]
			b.ReportAllocs()
			b.SetParallelism(8)
			start, cpu0 := time.Now(), processCPU()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := &discardWriter{h: http.Header{}}
				body := strings.NewReader("")
				for pb.Next() {
					if got := serveOnce(srv, c, w, body); got != c.outcome {
						b.Errorf("outcome %q", got)
						return
					}
				}
			})
			b.StopTimer()
			reportCPU(b, cpu0)
			reportSends(b, start, trips)
		})
	}
}

// BenchmarkServeSendStoreHTTP is BenchmarkServeSendStore over loopback HTTP (keep-alive, eight
// clients per core), as a client of the fake sees it: the HTTP work is the same on both stores.
func BenchmarkServeSendStoreHTTP(b *testing.B) {
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			srv, trips := benchStoreServer(b, st.open)
			hs := httptest.NewServer(srv)
			b.Cleanup(hs.Close)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.Cleanup(client.CloseIdleConnections)
			c := benchCases[0]
			url := hs.URL + smartappmock.SendPath + "?" + c.query
			b.ReportAllocs()
			b.SetParallelism(8)
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					res, err := client.Post(url, "application/x-www-form-urlencoded", strings.NewReader(c.body))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if got := res.Header.Get(smartappmock.HeaderOutcome); got != c.outcome {
						b.Errorf("outcome %q", got)
						return
					}
				}
			})
			b.StopTimer()
			reportSends(b, start, trips)
		})
	}
}

// reportSends reports sends/s and, on Redis, round trips per send.
func reportSends(b *testing.B, start time.Time, trips *tripCounter) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sends/s")
	if trips != nil {
		b.ReportMetric(float64(trips.n.Load())/float64(b.N), "roundtrips/send")
	}
}

// benchStoreServer builds the benchmark's server on a store and checks one send; the round trip
// counter (nil for memory) starts at zero.
func benchStoreServer(b *testing.B, open func(b *testing.B, journalCap int) (store.Store, *tripCounter)) (*Server, *tripCounter) {
	cfg, err := config.Parse("bench.yaml", []byte(benchConfig))
	if err != nil {
		b.Fatal(err)
	}
	s, trips := open(b, cfg.Policy.JournalCap)
	srv, err := New(Options{Config: cfg, Store: s})
	if err != nil {
		b.Fatal(err)
	}
	c := benchCases[0]
	if got := serveOnce(srv, c, &discardWriter{h: http.Header{}}, strings.NewReader("")); got != c.outcome {
		b.Fatalf("outcome %q, want %q", got, c.outcome)
	}
	if trips != nil {
		trips.n.Store(0)
	}
	return srv, trips
}

// benchStores are the stores the benchmarks compare: memory, and a redis-server of the
// benchmark's own on a unix socket (skipped without redis-server, failed under CI=true).
var benchStores = []struct {
	name string
	open func(b *testing.B, journalCap int) (store.Store, *tripCounter)
}{
	{"Memory", func(b *testing.B, journalCap int) (store.Store, *tripCounter) {
		return memstore.New(journalCap), nil
	}},
	{"RedisServer", func(b *testing.B, journalCap int) (store.Store, *tripCounter) {
		url := redistest.Start(b).URL()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := redisstore.Open(ctx, url, redisstore.Options{JournalCap: journalCap})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		c := &tripCounter{}
		s.AddHook(c)
		return s, c
	}},
}
