// Package observe watches the fake from outside its request path: Prometheus metrics fed by the
// API core's observer hook, and the NDJSON journal file written by a subscriber of the store's live
// feed (so it holds every entry of every server on the store, in sequence order). The API core
// does not import it, so users of mockservertest do not link Prometheus.
package observe

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/store"
)

// MetricsPath is where the fake answers Prometheus metrics (not an API path of openapi.yaml).
const MetricsPath = "/metrics"

// Metrics are the fake's Prometheus metrics, in a registry of their own (never the global
// default), so several servers in one process (tests) do not collide.
type Metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	warnings   *prometheus.CounterVec
	faults     *prometheus.CounterVec
	handler    http.Handler
	push       *pushMetrics           // push.go
	logins     *prometheus.CounterVec // logins.go
	inboxDrops prometheus.Counter     // inbox.go

	// cache holds the counter and histogram of each (endpoint, layer, code), so the request path
	// does not format the code and hash the labels every time.
	cache sync.Map // metricKey -> *metricSeries
	// warningCache holds the counter of each warning kind (a valid send in a window opened by a
	// send has one).
	warningCache sync.Map // kind -> prometheus.Counter
}

type metricKey struct {
	endpoint, layer string
	code            int
}

type metricSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// statsStore is implemented by stores that can report their size (memstore.Store does).
type statsStore interface {
	Stats() store.Stats
}

// NewMetrics returns the metrics of a fake on st: request counts and latencies (fed by Observe),
// the Go runtime and process, and the store's sizes when it reports them.
func NewMetrics(st store.Store) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "smartappmock",
		Name:      "requests_total",
		Help:      "Requests answered, by endpoint (send, token, unknown, ...), layer (gateway, business, oauth; fault for a send whose answer a fault replaced or mangled) and code (error_code, errno, HTTP status for oauth, the fault kind for fault).",
	}, []string{"endpoint", "layer", "code"})
	m.warnings = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "smartappmock",
		Name:      "warnings_total",
		Help:      "Warnings given (X-Smartappmock-Warning): answers the real service would not give, by kind.",
	}, []string{"kind"})
	m.faults = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "smartappmock",
		Name:      "faults_total",
		Help:      "Faults injected into answers, by kind and phase (before: nothing was counted; after: the send counted, its answer was lost).",
	}, []string{"kind", "phase"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "smartappmock",
		Name:      "request_duration_seconds",
		Help:      "Time the fake took to answer, by endpoint.",
		Buckets:   []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1},
	}, []string{"endpoint"})
	m.reg.MustRegister(m.requests, m.latency, m.warnings, m.faults,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if ss, ok := st.(statsStore); ok {
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
	m.push = newPushMetrics(m.reg)
	m.logins = newLoginMetrics(m.reg)
	m.inboxDrops = newInboxMetrics(m.reg)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	return m
}

// WatchJournal adds the journal file's health to the metrics: lines written and dropped, and
// whether the file is degraded (1 while its Err is not nil).
func (m *Metrics) WatchJournal(s *JournalSink) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "smartappmock",
			Name:      "journal_file_lines_written_total",
			Help:      "Journal entries written to the journal file (--journal-file).",
		}, func() float64 { return float64(s.Written()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "smartappmock",
			Name:      "journal_file_lines_dropped_total",
			Help:      "Journal entries that will never be in the journal file (the disk refused them for too long).",
		}, func() float64 { return float64(s.Dropped()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "smartappmock",
			Name:      "journal_file_degraded",
			Help:      "1 while the journal file is not whole (a write error, or entries dropped), else 0; /__admin/health gives the reason.",
		}, func() float64 {
			if s.Err() != nil {
				return 1
			}
			return 0
		}),
	)
}

// Observe counts one answered request: pass it as mockserver.Options.Observe. A send whose answer
// a fault replaced or mangled counts under layer "fault" and its kind, not under the code the
// fake decided (the client never read that code); its fault counts by kind and phase, and every
// warning of the answer by kind.
func (m *Metrics) Observe(e *store.Entry) {
	if m.push.observe(e) { // push.go
		return
	}
	if kind := e.FaultKind; kind != "" {
		m.requests.WithLabelValues(e.Endpoint, layerFault, kind).Inc()
		m.latency.WithLabelValues(e.Endpoint).Observe(float64(e.LatencyMicros) / 1e6)
		m.faults.WithLabelValues(kind, e.FaultPhase).Inc()
	} else {
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
	for _, w := range e.Warnings {
		c, ok := m.warningCache.Load(w.Kind)
		if !ok {
			c, _ = m.warningCache.LoadOrStore(w.Kind, m.warnings.WithLabelValues(w.Kind))
		}
		c.(prometheus.Counter).Inc()
	}
}

// layerFault is the layer label of a send whose answer a fault replaced or mangled.
const layerFault = "fault"

// Registry returns the Prometheus registry, for embedding the fake in a process that exposes its
// own metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ServeHTTP answers the metrics in the Prometheus text format.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.handler.ServeHTTP(w, r) }

// Wrap returns a handler that answers MetricsPath and passes every other request to next.
func (m *Metrics) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == MetricsPath {
			m.handler.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
