package mockserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
)

// HeaderFault names the fault injected into an answer, when the fault leaves room for headers. It
// is an extra of the fake, like the other X-Smartappmock headers.
const HeaderFault = "X-Smartappmock-Fault"

// magicFaultPrefix starts the magic open_ids that inject a fault: fault_<kind> (fault_http_503,
// fault_reset, fault_timeout, ...) and fault_latency_<duration> (fault_latency_250ms).
const magicFaultPrefix = "fault_"

// faultEngine holds the faults in force: the app faults of the configuration, the top-level faults
// (from the configuration, replaceable through the admin API) and their counters and seeded random
// sources. Its zero value is ready; it loads the configuration on first use.
type faultEngine struct {
	once   sync.Once
	global atomic.Pointer[faultSet]
	apps   atomic.Pointer[map[string]*faultSet]
	// any is true when some fault is configured: the hot path checks only this and the open_id.
	any atomic.Bool
	// hold overrides config.MaxFaultHold (tests).
	hold time.Duration
	// released is closed by ReleaseFaults: held requests end at once.
	released     chan struct{}
	releasedOnce sync.Once
	releasedInit sync.Once
}

// releasedCh returns the channel ReleaseFaults closes.
func (fe *faultEngine) releasedCh() chan struct{} {
	fe.releasedInit.Do(func() { fe.released = make(chan struct{}) })
	return fe.released
}

// ReleaseFaults ends every request held by a fault (timeout, drip, latency) at once, and makes
// later ones end without waiting. Call it before a graceful shutdown, which would otherwise wait
// for them; other in-flight requests are not disturbed.
func (s *Server) ReleaseFaults() {
	ch := s.faults.releasedCh()
	s.faults.releasedOnce.Do(func() { close(ch) })
}

// wait is sleepCtx that also ends when the faults are released.
func (fe *faultEngine) wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-fe.releasedCh():
		return errReleased
	}
}

// errReleased ends a held request when the server shuts down.
var errReleased = errors.New("the server is shutting down")

// faultSet is an immutable list of faults with their counters; replacing faults swaps the set.
type faultSet struct {
	faults []*activeFault
}

type activeFault struct {
	config.Fault
	label string

	mu       sync.Mutex
	rng      *rand.Rand
	matched  int
	injected int
}

// faultPlan is what a send gets: a delay, then a kind of failure (or none: only the delay).
type faultPlan struct {
	kind         config.FaultKind
	latency      time.Duration
	source       string
	dripInterval time.Duration
	dripBytes    int
}

func newFaultSet(where string, faults []config.Fault) *faultSet {
	fs := &faultSet{}
	for i, f := range faults {
		fs.faults = append(fs.faults, &activeFault{Fault: f, label: f.Label(where, i), rng: rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))})
	}
	return fs
}

func (fs *faultSet) empty() bool { return fs == nil || len(fs.faults) == 0 }

// init loads the faults of the configuration once.
func (fe *faultEngine) init(cfg *config.Config) {
	fe.once.Do(func() { fe.load(cfg, cfg.Faults) })
}

// load (re)builds every fault set from the configuration, with global as the top-level faults.
func (fe *faultEngine) load(cfg *config.Config, global []config.Fault) {
	apps := map[string]*faultSet{}
	for i, a := range cfg.Apps {
		if len(a.Faults) > 0 {
			apps[a.ID] = newFaultSet(fmt.Sprintf("apps[%d].faults", i), a.Faults)
		}
	}
	fe.apps.Store(&apps)
	fe.setGlobal(global)
}

func (fe *faultEngine) setGlobal(global []config.Fault) *faultSet {
	gs := newFaultSet("faults", global)
	fe.global.Store(gs)
	fe.any.Store(!gs.empty() || len(*fe.apps.Load()) > 0)
	return gs
}

// decide counts a matching send and says whether it is faulted, under the fault's lock so that
// counters and the random source advance in request order.
func (f *activeFault) decide(in ruleInput) (faultPlan, bool) {
	if !faultMatches(f.Match, in) {
		return faultPlan{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.matched++
	if f.matched <= f.Skip || (f.Times > 0 && f.injected >= f.Times) || (len(f.Sequence) > 0 && f.injected >= len(f.Sequence)) {
		return faultPlan{}, false
	}
	if p := f.Probability; p > 0 && p < 1 && f.rng.Float64() >= p {
		return faultPlan{}, false
	}
	kind := f.Kind
	step := ""
	if len(f.Sequence) > 0 {
		kind = f.Sequence[f.injected]
		step = fmt.Sprintf(", step %d of %d", f.injected+1, len(f.Sequence))
	}
	f.injected++
	lat := f.Latency.Min
	if f.Latency.Max > f.Latency.Min {
		lat += time.Duration(f.rng.Int64N(int64(f.Latency.Max-f.Latency.Min) + 1))
	}
	if kind == config.FaultNone && lat == 0 {
		return faultPlan{}, false
	}
	return faultPlan{kind: kind, latency: lat, source: f.label + step,
		dripInterval: time.Duration(f.DripInterval), dripBytes: f.DripBytes}, true
}

func faultMatches(m config.Match, in ruleInput) bool {
	return (m.App == "" || m.App == in.app) && (m.Token == "" || m.Token == in.token) &&
		(m.OpenID == "" || m.OpenID == in.openID) && (m.MsgType == "" || m.MsgType == in.msgType) &&
		(m.Content == "" || m.Content == in.content) &&
		(m.ContentContains == "" || strings.Contains(in.content, m.ContentContains))
}

func (fs *faultSet) decide(in ruleInput) (faultPlan, bool) {
	if fs == nil {
		return faultPlan{}, false
	}
	for _, f := range fs.faults {
		if p, ok := f.decide(in); ok {
			return p, true
		}
	}
	return faultPlan{}, false
}

// magicFault reads a magic open_id: fault_<kind> or fault_latency_<duration>.
func magicFault(openID string) (faultPlan, bool) {
	name := openID[len(magicFaultPrefix):]
	if d, ok := strings.CutPrefix(name, "latency_"); ok {
		v, err := time.ParseDuration(d)
		if err != nil || v <= 0 || v > config.MaxFaultLatency {
			return faultPlan{}, false
		}
		return faultPlan{latency: v, source: "magic:" + openID}, true
	}
	if k := config.FaultKind(name); k.Known(false) {
		return faultPlan{kind: k, source: "magic:" + openID}, true
	}
	return faultPlan{}, false
}

// pickFault decides whether a send is faulted: a magic open_id first, then the app's faults, then
// the top-level faults. It is cheap when no fault is configured and the open_id is not magic.
func (s *Server) pickFault(e *Entry, p *params) (faultPlan, bool) {
	magic := strings.HasPrefix(e.OpenID, magicFaultPrefix)
	cfg := s.cfg.Load()
	s.faults.init(cfg)
	if !magic && !s.faults.any.Load() {
		return faultPlan{}, false
	}
	if magic && cfg.Policy.MagicValues {
		if plan, ok := magicFault(e.OpenID); ok {
			return plan, true
		}
	}
	if !s.faults.any.Load() {
		return faultPlan{}, false
	}
	in := ruleInput{app: e.App, openID: e.OpenID, msgType: e.MsgType}
	if p != nil {
		in.token, _ = p.get("access_token")
		in.content, _ = p.get("content")
	}
	if e.App != "" {
		if plan, ok := (*s.faults.apps.Load())[e.App].decide(in); ok {
			return plan, true
		}
	}
	return s.faults.global.Load().decide(in)
}

// describe renders the plan for the journal: "http_503 (flaky)", "latency 1.2s + reset (faults[1])".
func (p faultPlan) describe() string {
	var parts []string
	if p.latency > 0 {
		parts = append(parts, "latency "+p.latency.String())
	}
	if p.kind != "" && p.kind != config.FaultNone {
		parts = append(parts, string(p.kind))
	}
	return strings.Join(parts, " + ") + " (" + p.source + ")"
}

// serveFault delivers a decided answer through a fault and records the entry. The answer itself
// (a, already in e) is what the fake decided; the fault only changes what reaches the client.
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, e *Entry, a answer, plan faultPlan, start time.Time) {
	ctx := r.Context()
	e.Fault = plan.describe()
	if plan.latency > 0 {
		switch err := s.faults.wait(ctx, plan.latency); {
		case errors.Is(err, errReleased):
			// Shutting down: the rest of the delay is skipped and the request finishes with its
			// answer, as a graceful shutdown promises (an empty 200 would look like a success).
			e.Fault += "; latency cut short: " + endReason(err)
		case err != nil:
			e.Status = 0
			e.Fault += "; ended during the latency: " + endReason(err)
			s.record(r, *e, start)
			return
		}
	}
	w.Header().Set(HeaderFault, string(plan.kind))
	switch plan.kind {
	case "", config.FaultNone:
		w.Header().Set(HeaderFault, "latency")
		s.writeEnvelope(w, a.layer, a.code, a.reason, e.ID)
	case config.FaultHTTP500, config.FaultHTTP502, config.FaultHTTP503, config.FaultHTTP504:
		status, _ := strconv.Atoi(strings.TrimPrefix(string(plan.kind), "http_"))
		body := gatewayPage(status)
		h := w.Header()
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		h.Set("Server", "nginx")
		h.Set(smartappmock.HeaderRequestID, e.ID)
		w.WriteHeader(status)
		_, _ = w.Write(body)
		e.Status = status
	case config.FaultReset, config.FaultEmpty:
		e.Status = 0
		s.record(r, *e, start)
		abortConn(w, plan.kind == config.FaultReset)
		return
	case config.FaultTimeout:
		hold := s.faults.hold
		if hold <= 0 {
			hold = config.MaxFaultHold
		}
		held := time.Now()
		if err := s.faults.wait(ctx, hold); err != nil {
			e.Fault += fmt.Sprintf("; ended after %s: %s", time.Since(held).Round(time.Millisecond), endReason(err))
		} else {
			e.Fault += "; held " + hold.String() + ", then closed"
		}
		e.Status = 0
		s.record(r, *e, start)
		abortConn(w, false)
		return
	default:
		s.mangleAnswer(w, r, e, a, plan)
	}
	s.record(r, *e, start)
}

// mangleAnswer renders the envelope, then breaks it as the plan says.
func (s *Server) mangleAnswer(w http.ResponseWriter, r *http.Request, e *Entry, a answer, plan faultPlan) {
	buf := &bufferedAnswer{h: w.Header()}
	s.writeEnvelope(buf, a.layer, a.code, a.reason, e.ID)
	body := buf.body.Bytes()
	h := w.Header()
	switch plan.kind {
	case config.FaultTruncated:
		body = body[:len(body)/2]
	case config.FaultMalformed:
		// {"errno":0,... becomes {errno":0,...: a syntax error at the first key.
		body = append([]byte{'{'}, body[2:]...)
	case config.FaultContentType:
		h.Set("Content-Type", "text/html; charset=utf-8")
	case config.FaultDrip:
		s.drip(w, r, e, body, plan)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(buf.status)
	_, _ = w.Write(body)
}

// drip sends the headers, then the body a few bytes at a time.
func (s *Server) drip(w http.ResponseWriter, r *http.Request, e *Entry, body []byte, plan faultPlan) {
	every, n := plan.dripInterval, plan.dripBytes
	if every <= 0 {
		every = config.DefaultDripInterval
	}
	if n <= 0 {
		n = 1
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	for i := 0; i < len(body); i += n {
		if err := s.faults.wait(r.Context(), every); err != nil {
			e.Fault += fmt.Sprintf("; ended after %d of %d bytes: %s", i, len(body), endReason(err))
			return
		}
		if _, err := w.Write(body[i:min(i+n, len(body))]); err != nil {
			return
		}
		_ = rc.Flush()
	}
}

// endReason says why a held request ended early.
func endReason(err error) string {
	if errors.Is(err, errReleased) {
		return err.Error()
	}
	return "the client gave up"
}

// bufferedAnswer captures what writeEnvelope writes, sharing the real writer's headers.
type bufferedAnswer struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedAnswer) Header() http.Header         { return b.h }
func (b *bufferedAnswer) WriteHeader(status int)      { b.status = status }
func (b *bufferedAnswer) Write(p []byte) (int, error) { return b.body.Write(p) }

// gatewayPage is the HTML error page a gateway in front of the service answers.
func gatewayPage(status int) []byte {
	t := strconv.Itoa(status) + " " + http.StatusText(status)
	return []byte("<html>\r\n<head><title>" + t + "</title></head>\r\n<body>\r\n<center><h1>" + t +
		"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
}

// abortConn ends the exchange without an answer: it takes the connection over and closes it, with
// an RST when reset is true. A writer that cannot give its connection up (HTTP/2) has its stream
// aborted with http.ErrAbortHandler, which net/http servers treat as a silent abort.
func abortConn(w http.ResponseWriter, reset bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if reset {
		if tcp := innerTCP(conn); tcp != nil {
			_ = tcp.SetLinger(0)
			_ = tcp.Close()
			_ = conn.Close()
			return
		}
	}
	_ = conn.Close()
}

// innerTCP unwraps TLS and proxy-tunnel connections down to the TCP connection.
func innerTCP(c net.Conn) *net.TCPConn {
	for range 8 {
		switch v := c.(type) {
		case *net.TCPConn:
			return v
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}
