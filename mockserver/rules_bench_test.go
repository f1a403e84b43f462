package mockserver

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/config"
)

// BenchmarkServeSendRules measures a valid send on a redis-server of its own with no rule and
// with 10,000 rules in force that match other users (a team's sandbox full of per-test rules),
// side by side: the rules are decoded once per version and looked up by the send's open_id, so
// their number must not cost Redis, nor the replica, per send.
func BenchmarkServeSendRules(b *testing.B) {
	redis := benchStores[1]
	for _, n := range []int{0, 10_000} {
		b.Run("Rules"+strconv.Itoa(n), func(b *testing.B) {
			srv, trips := benchStoreServer(b, redis.open)
			if n > 0 {
				rules := make([]config.Rule, n)
				for i := range rules {
					errno := 90002
					rules[i] = config.Rule{Match: config.Match{OpenID: "other-user-" + strconv.Itoa(i)}, Answer: config.Answer{Errno: &errno}}
				}
				if _, err := srv.PutRules(context.Background(), rules); err != nil {
					b.Fatal(err)
				}
			}
			c := benchCases[0]
			if got := serveOnce(srv, c, &discardWriter{h: http.Header{}}, strings.NewReader("")); got != c.outcome {
				b.Fatalf("outcome %q, want %q", got, c.outcome)
			}
			trips.n.Store(0)
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
