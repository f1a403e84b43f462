package mockserver_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/mockserver"
)

// BenchmarkPushBacklog1000 writes 1,000 user messages at once to an app whose bot answers in
// 20 ms, and reports the peak goroutines and heap of the process while they are delivered:
// within the callers' calls (1,000 concurrent callers, no delivery loop), and through the
// outbox (queued, 8 workers). Run it alone: go test -run '^$' -bench PushBacklog1000 -benchtime 1x.
func BenchmarkPushBacklog1000(b *testing.B) {
	for _, mode := range []string{"Inline_1000Callers", "Outbox_8Workers"} {
		b.Run(mode, func(b *testing.B) {
			var peakG int
			var peakHeap uint64
			for b.Loop() {
				s := newUserWritesServer(b, nil)
				bot := &recordingBot{delay: 20 * time.Millisecond}
				pushTo(b, s, "1001", bot, 0)
				var d *mockserver.Delivery
				if mode == "Outbox_8Workers" {
					var err error
					if d, err = s.StartDelivery(mockserver.DeliveryOptions{Workers: 8}); err != nil {
						b.Fatal(err)
					}
				}
				stop := make(chan struct{})
				sampled := make(chan struct{})
				go func() {
					defer close(sampled)
					var ms runtime.MemStats
					for i := 0; ; i++ {
						peakG = max(peakG, runtime.NumGoroutine())
						if i%20 == 0 {
							runtime.ReadMemStats(&ms)
							peakHeap = max(peakHeap, ms.HeapAlloc)
						}
						select {
						case <-stop:
							return
						case <-time.After(time.Millisecond):
						}
					}
				}()
				ctx := context.Background()
				if d == nil {
					var wg sync.WaitGroup
					for range 1000 {
						wg.Go(func() { _, _ = s.UserWrites(ctx, hi("1001", "u1")) })
					}
					wg.Wait()
				} else {
					for range 1000 {
						in := hi("1001", "u1")
						in.Queue = true
						if _, err := s.UserWrites(ctx, in); err != nil {
							b.Fatal(err)
						}
					}
					for d.QueueDepth() > 0 {
						time.Sleep(5 * time.Millisecond)
					}
					_ = d.Stop(ctx)
				}
				close(stop)
				<-sampled
			}
			b.ReportMetric(float64(peakG), "peak-goroutines")
			b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
		})
	}
}
