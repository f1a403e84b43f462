package redisstore

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
)

// benchOps are the operations measured: the deciding ones alone, and the primitives of one valid
// send as the API core calls them: "Send" is a plain send (Lookup, TakeReply, Append: three
// round trips, each shared with concurrent callers), "SendLimits" one with a QPS and a daily
// limit (TakeCounts as well).
func benchOps(s store.Store, faultV uint64) []struct {
	name string
	op   func(ctx context.Context, i int) error
} {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rule := store.WindowRule{Duration: 48 * time.Hour, MaxReplies: 1 << 30, OpenOnFirst: true}
	entry := store.Entry{ID: "req", App: "a", Endpoint: "send", Method: "POST", Path: "/rest/2.0/smartapp/message/custom/send",
		Params: []store.Param{{Name: "open_id", Value: "u", Source: "body", Used: true}}, OpenID: "u", MsgType: "text",
		Layer: "business", Status: 200, Reason: "reply 1 of 5"}
	takeReply := func(ctx context.Context, i int) error {
		_, err := s.TakeReply(ctx, "a", "u"+strconv.Itoa(i%64), t0, rule)
		return err
	}
	appendEntry := func(ctx context.Context, _ int) error { _, err := s.Append(ctx, entry); return err }
	lookup := func(ctx context.Context, _ int) error { _, err := s.Lookup(ctx, "24.static", ""); return err }
	return []struct {
		name string
		op   func(ctx context.Context, i int) error
	}{
		{"Ping", func(ctx context.Context, _ int) error { return s.Ping(ctx) }},
		{"Lookup", lookup},
		{"TakeReply", takeReply},
		{"TakeCount", func(ctx context.Context, i int) error {
			_, _, err := s.TakeCount(ctx, "a", "daily", "2026-01-02", 0)
			return err
		}},
		{"TakeFault", func(ctx context.Context, i int) error {
			_, err := s.TakeFault(ctx, faultV, store.PlanID{}, store.FaultPolicy{Probability: 0.3, Seed: 7})
			return err
		}},
		{"Append", appendEntry},
		{"Send", func(ctx context.Context, i int) error {
			if err := lookup(ctx, i); err != nil {
				return err
			}
			if err := takeReply(ctx, i); err != nil {
				return err
			}
			return appendEntry(ctx, i)
		}},
		{"SendLimits", func(ctx context.Context, i int) error {
			if err := lookup(ctx, i); err != nil {
				return err
			}
			if _, err := s.TakeCounts(ctx, []store.Take{{App: "a", Name: "qps", Period: strconv.Itoa(i / 1000), Limit: 1 << 30},
				{App: "a", Name: "daily", Period: "2026-01-02", Limit: 1 << 30}}); err != nil {
				return err
			}
			if err := takeReply(ctx, i); err != nil {
				return err
			}
			return appendEntry(ctx, i)
		}},
	}
}

// benchSeed prepares s: app a with a token, a rule and a fault plan; it returns the fault version.
func benchSeed(b *testing.B, s store.Store) uint64 {
	ctx := context.Background()
	if err := s.Seed(ctx, store.Seed{At: time.Now(), Apps: []store.App{{ID: "a", Source: "config", Capability: true}},
		Tokens: []store.Token{{Value: "24.static", App: "a"}}, Rules: []byte(`[{"name":"r","match":{"content":"x"}}]`),
		Faults: []byte(`[{"kind":"http_503","probability":0.3,"seed":7}]`)}); err != nil {
		b.Fatal(err)
	}
	f, err := s.Faults(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return f.Version
}

// runBench measures op with 8 × GOMAXPROCS callers (a server's concurrent requests), and the round trips per
// op when rec is not nil.
func runBench(b *testing.B, op func(ctx context.Context, i int) error, rec *recorder) {
	ctx := context.Background()
	if err := op(ctx, 0); err != nil { // load the script, register the app
		b.Fatal(err)
	}
	if rec != nil {
		rec.reset()
	}
	var n atomic.Int64
	b.SetParallelism(8) // 8 × GOMAXPROCS callers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(ctx, int(n.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if rec != nil {
		b.ReportMetric(float64(rec.trips)/float64(b.N), "roundtrips/op")
	}
}

// BenchmarkRedisServer measures the store on a redis-server of its own (unix socket): ns/op with
// concurrent callers, so ops/s = 1e9 / ns/op, and Redis round trips per operation.
func BenchmarkRedisServer(b *testing.B) {
	s := openT(b, startRedisServer(b).URL(), Options{})
	rec := &recorder{}
	s.rdb.AddHook(rec)
	v := benchSeed(b, s)
	for _, o := range benchOps(s, v) {
		b.Run(o.name, func(b *testing.B) {
			resetRedisTime(b, s)
			runBench(b, o.op, rec)
			reportRedisTime(b, s)
		})
	}
}

// resetRedisTime starts Redis's command statistics again.
func resetRedisTime(b *testing.B, s *Store) {
	if err := s.rdb.ConfigResetStat(context.Background()).Err(); err != nil {
		b.Fatal(err)
	}
}

// reportRedisTime reports the time Redis spent in the commands of one operation (INFO
// commandstats, µs, since resetRedisTime): the part of a round trip that Redis's one thread
// cannot share.
func reportRedisTime(b *testing.B, s *Store) {
	ctx := context.Background()
	info, err := s.rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	total := 0.0
	for line := range strings.Lines(info) {
		if _, rest, ok := strings.Cut(line, ",usec="); ok && strings.HasPrefix(line, "cmdstat_") && !strings.HasPrefix(line, "cmdstat_config") {
			us, _, _ := strings.Cut(rest, ",")
			v, _ := strconv.ParseFloat(us, 64)
			total += v
		}
	}
	b.ReportMetric(total/float64(b.N), "redis-µs/op")
}

// BenchmarkMemory is BenchmarkRedisServer on the in-memory store, for comparison.
func BenchmarkMemory(b *testing.B) {
	s := memstore.New(1000)
	v := benchSeed(b, s)
	for _, o := range benchOps(s, v) {
		b.Run(o.name, func(b *testing.B) { runBench(b, o.op, nil) })
	}
}
