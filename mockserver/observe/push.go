package observe

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/smartappmock/smartappmock/store"
)

// The outcomes of a push attempt, as smartappmock_push_attempts_total counts them.
const (
	// PushAcked is an attempt the bot acknowledged (2xx, body success or empty).
	PushAcked = "acked"
	// PushRejected is an attempt the bot answered with anything else.
	PushRejected = "rejected"
	// PushNoAnswer is an attempt that got no answer (timeout, connection error).
	PushNoAnswer = "no_answer"
)

// pushMetrics count the message push: attempts by outcome, and the messages users wrote.
type pushMetrics struct {
	attempts *prometheus.CounterVec
	messages prometheus.Counter
	latency  prometheus.Observer
}

func newPushMetrics(reg *prometheus.Registry) *pushMetrics {
	p := &pushMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "smartappmock",
			Name:      "push_attempts_total",
			Help:      "Attempts to push a user's message to the app's bot, or a platform's push to its URL, by outcome (acked, rejected, no_answer).",
		}, []string{"outcome"}),
		messages: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "smartappmock",
			Name:      "user_messages_total",
			Help:      "Messages users wrote (POST /__admin/apps/{app}/users/{open_id}/messages), pushed or not.",
		}),
	}
	lat := prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "smartappmock",
		Name:      "push_attempt_duration_seconds",
		Help:      "Time from sending a push to reading the bot's answer (or giving up).",
		Buckets:   []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1, 2, 5},
	})
	p.latency = lat
	reg.MustRegister(p.attempts, p.messages, lat)
	for _, o := range []string{PushAcked, PushRejected, PushNoAnswer} {
		p.attempts.WithLabelValues(o) // present at zero
	}
	return p
}

// observe counts a journal entry of the push; it reports false for any other entry.
func (p *pushMetrics) observe(e *store.Entry) bool {
	switch e.Endpoint {
	case store.EndpointUserMessage:
		p.messages.Inc()
	case store.EndpointPush, store.EndpointPlatformPushAttempt:
		outcome := PushRejected
		switch {
		case e.Code == 0:
			outcome = PushAcked
		case e.Status == 0:
			outcome = PushNoAnswer
		}
		p.attempts.WithLabelValues(outcome).Inc()
		p.latency.Observe(float64(e.LatencyMicros) / 1e6)
	default:
		return false
	}
	return true
}

// DeliveryStats is what the metrics read of a replica's push delivery loop
// (mockserver.Delivery).
type DeliveryStats interface {
	// Counts returns the deliveries finished by outcome.
	Counts() (delivered, failed, canceled uint64)
	// InFlight returns the deliveries running now; Workers the pool's size.
	InFlight() int
	Workers() int
	// QueueDepth returns the jobs in the store's outbox (-1: the store did not answer).
	QueueDepth() int
}

// WatchDelivery adds a replica's delivery loop to the metrics: deliveries by outcome, the ones
// in flight and the pool's size, and the outbox's depth (read from the store at each scrape).
func (m *Metrics) WatchDelivery(d DeliveryStats) {
	count := func(outcome string, pick func(delivered, failed, canceled uint64) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace:   "smartappmock",
			Name:        "push_deliveries_total",
			Help:        "Push deliveries this replica finished, by outcome: delivered (acknowledged), failed (no attempt acknowledged), canceled (cut short by shutdown, left in the outbox for another replica).",
			ConstLabels: prometheus.Labels{"outcome": outcome},
		}, func() float64 { return float64(pick(d.Counts())) })
	}
	m.reg.MustRegister(
		count("delivered", func(a, _, _ uint64) uint64 { return a }),
		count("failed", func(_, b, _ uint64) uint64 { return b }),
		count("canceled", func(_, _, c uint64) uint64 { return c }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "smartappmock",
			Name:      "push_deliveries_in_flight",
			Help:      "Push deliveries running on this replica now (at most push_workers).",
		}, func() float64 { return float64(d.InFlight()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "smartappmock",
			Name:      "push_workers",
			Help:      "The size of this replica's push delivery pool (--push-workers).",
		}, func() float64 { return float64(d.Workers()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "smartappmock",
			Name:      "push_queue_depth",
			Help:      "Pushes in the store's outbox, queued or being delivered, all replicas together (-1: the store did not answer).",
		}, func() float64 { return float64(d.QueueDepth()) }),
	)
}
