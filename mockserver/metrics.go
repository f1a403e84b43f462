package mockserver

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/smartappmock/smartappmock"
)

// MetricsPath is where the server answers Prometheus metrics (not an API path of openapi.yaml).
const MetricsPath = "/metrics"

// metrics are the server's Prometheus metrics, in a registry of its own (never the global
// default), so several servers in one process (tests) do not collide.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	handler  http.Handler

	// cache holds the counter and histogram of each (endpoint, layer, code), so the request path
	// does not format the code and hash the labels every time.
	cache sync.Map // metricKey -> *metricSeries
}

type metricKey struct {
	endpoint, layer string
	code            int
}

type metricSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// StoreStats are the sizes a store reports for the metrics.
type StoreStats struct {
	// Tenants is how many apps (and app-less journal buckets) the store holds.
	Tenants int
	// JournalEntries is how many journal entries it holds in all.
	JournalEntries int
}

// statsStore is implemented by stores that can report their size (MemoryStore does).
type statsStore interface {
	Stats() StoreStats
}

func newMetrics(store Store) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "smartappmock",
		Name:      "requests_total",
		Help:      "Requests answered, by endpoint (send, token, unknown), layer (gateway, business, oauth) and code (error_code, errno, or HTTP status for oauth).",
	}, []string{"endpoint", "layer", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "smartappmock",
		Name:      "request_duration_seconds",
		Help:      "Time the fake took to answer, by endpoint.",
		Buckets:   []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1},
	}, []string{"endpoint"})
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if ss, ok := store.(statsStore); ok {
		m.reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: "smartappmock",
				Name:      "tenants",
				Help:      "Apps (tenants) the store holds, configured and sandbox.",
			}, func() float64 { return float64(ss.Stats().Tenants) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: "smartappmock",
				Name:      "journal_entries",
				Help:      "Journal entries the store holds, all apps together (bounded by journal_cap per app).",
			}, func() float64 { return float64(ss.Stats().JournalEntries) }),
		)
	}
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	return m
}

// observe counts one answered request.
func (m *metrics) observe(e *Entry) {
	code := e.Code
	if e.Layer == smartappmock.LayerOAuth {
		code = e.Status
	}
	k := metricKey{e.Endpoint, string(e.Layer), code}
	v, ok := m.cache.Load(k)
	if !ok {
		v, _ = m.cache.LoadOrStore(k, &metricSeries{
			requests: m.requests.WithLabelValues(k.endpoint, k.layer, strconv.Itoa(code)),
			latency:  m.latency.WithLabelValues(k.endpoint),
		})
	}
	s := v.(*metricSeries)
	s.requests.Inc()
	s.latency.Observe(float64(e.LatencyMicros) / 1e6)
}

// Metrics returns the server's Prometheus registry, for embedding the fake in a process that
// exposes its own metrics.
func (s *Server) Metrics() *prometheus.Registry { return s.metrics.reg }
