package sandbox

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
)

// BenchmarkUserWrites_AdminRoute measures "the user writes" end to end on loopback: an admin
// call (POST /__admin/apps/{app}/users/{open_id}/messages) through a real HTTP listener, the push
// encoded and delivered to a bot that acknowledges at once, the attempt journaled. It reports
// pushes per second and, as push-µs/op, the delivery latency the fake adds: from the admin call
// leaving the client to the push arriving at the bot (median).
func BenchmarkUserWrites_AdminRoute(b *testing.B) {
	for _, mode := range []string{"plain", "secure"} {
		b.Run(mode, func(b *testing.B) {
			cfg := configtest.Parse(b, configtest.Strict)
			srv, err := newSandbox(mockserver.Options{Config: cfg})
			if err != nil {
				b.Fatal(err)
			}
			fake := httptest.NewServer(srv)
			defer fake.Close()
			var mu sync.Mutex
			var arrivals []time.Time
			bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				now := time.Now()
				if e := r.URL.Query().Get("echoStr"); e != "" {
					_, _ = io.WriteString(w, e)
					return
				}
				_, _ = io.Copy(io.Discard, r.Body)
				mu.Lock()
				arrivals = append(arrivals, now)
				mu.Unlock()
				_, _ = io.WriteString(w, "success")
			}))
			defer bot.Close()
			client := fake.Client()
			do := func(method, path, body string) {
				req, _ := http.NewRequest(method, fake.URL+path, strings.NewReader(body))
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				out, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("%s %s: %d %s", method, path, res.StatusCode, out)
				}
			}
			do(http.MethodPut, "/__admin/apps/1001/push", pushBody(bot.URL, mode, "json", ""))
			starts := make([]time.Time, 0, b.N)
			b.ResetTimer()
			for range b.N {
				starts = append(starts, time.Now())
				do(http.MethodPost, "/__admin/apps/1001/users/u1/messages", `{"msg_type":"text","content":"hello"}`)
			}
			b.StopTimer()
			mu.Lock()
			defer mu.Unlock()
			if len(arrivals) != b.N {
				b.Fatalf("%d pushes arrived for %d calls", len(arrivals), b.N)
			}
			lat := make([]float64, b.N)
			for i := range lat {
				lat[i] = float64(arrivals[i].Sub(starts[i]).Microseconds())
			}
			slices.Sort(lat)
			b.ReportMetric(lat[len(lat)/2], "push-µs/op")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pushes/s")
		})
	}
}
