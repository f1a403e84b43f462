package observe

import "github.com/prometheus/client_golang/prometheus"

// newInboxMetrics registers the counter of inbox live streams dropped for falling behind.
func newInboxMetrics(reg *prometheus.Registry) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "smartappmock",
		Name:      "inbox_streams_dropped_total",
		Help:      "Inbox live streams (/__admin/ui/events) ended because their client fell too far behind (it did not read fast enough); the browser reconnects.",
	})
	reg.MustRegister(c)
	return c
}

// InboxStreamDropped counts one live stream the inbox dropped: wire it to
// admin.Options.StreamDropped.
func (m *Metrics) InboxStreamDropped() { m.inboxDrops.Inc() }
