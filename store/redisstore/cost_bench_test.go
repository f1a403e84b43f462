package redisstore

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/store"
)

// BenchmarkSendRedisInstructions reports the instructions Redis runs per send (redis-instr/op),
// counted by callgrind: unlike time, the count does not move with other work on the machine, so
// it compares two versions of the store's scripts on a shared machine. bench/redis-cost.sh runs it
// against a redis-server under callgrind; without that (CALLGRIND_REDIS_URL, CALLGRIND_REDIS_PID
// and CALLGRIND_OUT, the dump files' prefix) it skips. Sends are past the journal cap, so
// trimming is in its steady state; the send is bench/run.sh's valid text send. "sequential" sends
// one at a time (three script runs per send: Lookup, TakeReply, Append); "16-callers" sends from
// 16 goroutines at once, as under load, so concurrent sends share pipelines (internal/batch).
func BenchmarkSendRedisInstructions(b *testing.B) {
	url, pid, out := os.Getenv("CALLGRIND_REDIS_URL"), os.Getenv("CALLGRIND_REDIS_PID"), os.Getenv("CALLGRIND_OUT")
	if url == "" || pid == "" || out == "" {
		b.Skip("needs a redis-server under callgrind: run bench/redis-cost.sh")
	}
	s := openT(b, url, Options{})
	ctx := context.Background()
	if err := s.Seed(ctx, store.Seed{At: time.Now(), Apps: []store.App{{ID: "20001", Source: "config", Capability: true}},
		Tokens: []store.Token{{Value: "bench-token", App: "20001"}}}); err != nil {
		b.Fatal(err)
	}
	ps := []store.Param{{Name: "access_token", Value: "benc…#7137e16f", Source: "query", Used: true},
		{Name: "user_type", Value: "1", Source: "body", Used: true}, {Name: "open_id", Value: "bench-user", Source: "body", Used: true},
		{Name: "msg_type", Value: "text", Source: "body", Used: true}, {Name: "content", Value: "hi", Source: "body", Used: true}}
	rule := store.WindowRule{Duration: 48 * time.Hour, MaxReplies: 1 << 30, OpenOnFirst: true}
	// send is what the API core asks of the store for a plain valid send.
	send := func() error {
		lk, err := s.Lookup(ctx, "bench-token", "")
		if err != nil {
			return err
		}
		now := lk.Now.Add(lk.App.ClockOffset)
		if _, err := s.TakeReply(ctx, lk.App.ID, "bench-user", now, rule); err != nil {
			return err
		}
		_, err = s.Append(ctx, store.Entry{ID: "1a00e2a0-1", Time: time.Now(), AppTime: now, App: lk.App.ID, Token: "benc…#7137e16f",
			Endpoint: "send", Method: "POST", Path: "/rest/2.0/smartapp/message/custom/send", ContentType: "application/x-www-form-urlencoded",
			Params: ps, OpenID: "bench-user", MsgType: "text", Layer: "business", Status: 200, Reason: "window: reply 1 of 1073741824",
			Warnings: []store.Warning{{Kind: "open_on_first_send", Message: "window: opened by this send, the user never wrote; Baidu answers 90001"}}})
		return err
	}
	for range s.opts.JournalCap + 200 {
		if err := send(); err != nil {
			b.Fatal(err)
		}
	}
	callgrind := func(b *testing.B, flag string) {
		if out, err := exec.Command("callgrind_control", flag, pid).CombinedOutput(); err != nil {
			b.Fatalf("callgrind_control %s: %v: %s", flag, err, out)
		}
	}
	for _, bc := range []struct {
		name    string
		callers int
	}{{"sequential", 1}, {"16-callers", 16}} {
		b.Run(bc.name, func(b *testing.B) {
			callgrind(b, "-z") // zero the counts
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range bc.callers {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if err := send(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			callgrind(b, "-d") // dump them
			ir, err := lastDumpInstructions(out + "." + pid)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(ir)/float64(b.N), "redis-instr/op")
		})
	}
}

// lastDumpInstructions reads the instruction count ("summary:") of the newest callgrind dump
// named prefix.N.
func lastDumpInstructions(prefix string) (int64, error) {
	files, err := filepath.Glob(prefix + ".*")
	if err != nil || len(files) == 0 {
		return 0, os.ErrNotExist
	}
	newest, n := "", -1
	for _, f := range files {
		if k, err := strconv.Atoi(f[len(prefix)+1:]); err == nil && k > n {
			newest, n = f, k
		}
	}
	b, err := os.ReadFile(newest)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "summary: "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, os.ErrNotExist
}
