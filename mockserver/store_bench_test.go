package mockserver

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
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
// reports sends/s and, on Redis, round trips per send.
func BenchmarkServeSendStore(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B, journalCap int) (store.Store, *tripCounter)
	}{
		{"Memory", func(b *testing.B, journalCap int) (store.Store, *tripCounter) {
			return store.NewMemory(journalCap), nil
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
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			cfg, err := config.Parse("bench.yaml", []byte(benchConfig))
			if err != nil {
				b.Fatal(err)
			}
			s, trips := st.open(b, cfg.Policy.JournalCap)
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
			b.ReportAllocs()
			b.SetParallelism(8)
			start := time.Now()
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
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sends/s")
			if trips != nil {
				b.ReportMetric(float64(trips.n.Load())/float64(b.N), "roundtrips/send")
			}
		})
	}
}
