package observe

import (
	"io"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/store/memstore"
)

// fakeDelivery is a delivery loop's numbers, as WatchDelivery reads them.
type fakeDelivery struct{ delivered, failed, canceled, inFlight, workers, depth int }

func (f fakeDelivery) Counts() (uint64, uint64, uint64) {
	return uint64(f.delivered), uint64(f.failed), uint64(f.canceled)
}
func (f fakeDelivery) InFlight() int   { return f.inFlight }
func (f fakeDelivery) Workers() int    { return f.workers }
func (f fakeDelivery) QueueDepth() int { return f.depth }

// TestWatchDelivery_ExposesDeliveriesPoolAndQueue: the delivery loop's counts, pool and the
// outbox's depth are in /metrics, each outcome its own series.
func TestWatchDelivery_ExposesDeliveriesPoolAndQueue(t *testing.T) {
	t.Parallel()
	m := NewMetrics(memstore.New(10))
	m.WatchDelivery(fakeDelivery{delivered: 7, failed: 2, canceled: 1, inFlight: 3, workers: 8, depth: 42})
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	got := regexp.MustCompile(`(?m)^smartappmock_push_(deliveries|queue|workers).*$`).FindAllString(string(body), -1)
	want := []string{
		`smartappmock_push_deliveries_in_flight 3`,
		`smartappmock_push_deliveries_total{outcome="canceled"} 1`,
		`smartappmock_push_deliveries_total{outcome="delivered"} 7`,
		`smartappmock_push_deliveries_total{outcome="failed"} 2`,
		`smartappmock_push_queue_depth 42`,
		`smartappmock_push_workers 8`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delivery metrics mismatch (-want +got):\n%s", diff)
	}
}
