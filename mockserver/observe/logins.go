package observe

import "github.com/prometheus/client_golang/prometheus"

// The kinds of failed admin logins, as smartappmock_admin_login_failures_total counts them.
const (
	// LoginWrong is a wrong admin token.
	LoginWrong = "wrong"
	// LoginThrottled is an attempt refused unchecked, while its address waits after too many
	// wrong tokens.
	LoginThrottled = "throttled"
)

// newLoginMetrics registers the counter of failed admin logins, each route's series present at
// zero, so that an alert can watch it before the first failure.
func newLoginMetrics(reg *prometheus.Registry) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "smartappmock",
		Name:      "admin_login_failures_total",
		Help:      "Failed attempts at the admin token, by route (bearer: an Authorization header; login_form: the inbox's form; page_token: ?token= on the inbox) and kind (wrong: a wrong token; throttled: refused unchecked while the address waits after too many).",
	}, []string{"via", "kind"})
	reg.MustRegister(c)
	for _, via := range []string{"bearer", "login_form", "page_token"} {
		for _, kind := range []string{LoginWrong, LoginThrottled} {
			c.WithLabelValues(via, kind)
		}
	}
	return c
}

// AdminLoginFailed counts one failed attempt at the admin token via a route (admin.ViaBearer,
// ViaLoginForm, ViaPageToken); throttled says it was refused unchecked. Wire it to
// admin.Options.LoginFailed.
func (m *Metrics) AdminLoginFailed(via string, throttled bool) {
	kind := LoginWrong
	if throttled {
		kind = LoginThrottled
	}
	m.logins.WithLabelValues(via, kind).Inc()
}
