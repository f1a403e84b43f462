package admin

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Guessing the admin token is slowed per client address. Every attempt that presents a token (a
// bearer header, the login form, ?token= on the inbox page) and is wrong counts as a failure,
// logged (address, route and count; never what was sent) and passed to Options.LoginFailed (the
// metrics). The first loginFreeFailures failures of an address cost nothing (typos); after
// that, each failure makes the address wait before its next attempt is even checked: 1 s, then
// twice as long after each further failure, up to loginMaxDelay. An attempt during the wait
// answers 429 with Retry-After and is not checked, so parallel connections do not guess faster.
// A right token clears the address's failures; an address that stops failing is forgotten after
// loginForget. At most loginMaxAddrs addresses are remembered (IPv6 clients by their /64).
const (
	loginFreeFailures = 3
	loginFirstDelay   = time.Second
	loginMaxDelay     = time.Minute
	loginForget       = 15 * time.Minute
	loginMaxAddrs     = 4096
)

// The routes a token is tried on (LoginFailure.Via, the metric's label).
const (
	// ViaBearer is an Authorization: Bearer header on any admin route.
	ViaBearer = "bearer"
	// ViaLoginForm is the inbox's login form (POST LoginPath).
	ViaLoginForm = "login_form"
	// ViaPageToken is ?token= on the inbox page.
	ViaPageToken = "page_token"
)

// LoginFailure is one wrong admin token, or one attempt refused while its address waits.
type LoginFailure struct {
	// Via is where the token was tried: ViaBearer, ViaLoginForm or ViaPageToken.
	Via string
	// Throttled says the attempt came while its address had to wait, and was not checked.
	Throttled bool
}

// loginAddr is what the throttle remembers of one client address.
type loginAddr struct {
	failures int
	last     time.Time // the last failure
	next     time.Time // no attempt is checked before
}

// loginThrottle counts failed attempts per client address.
type loginThrottle struct {
	mu    sync.Mutex
	addrs map[string]*loginAddr
	swept time.Time // the last sweep of quiet addresses
}

// loginDelay is how long an address waits after its n-th failure in a row.
func loginDelay(n int) time.Duration {
	if n <= loginFreeFailures {
		return 0
	}
	shift := n - loginFreeFailures - 1
	if shift >= 16 {
		return loginMaxDelay
	}
	return min(loginFirstDelay<<shift, loginMaxDelay)
}

// clientKey is the throttle's key for a request: its peer's IP address, an IPv6 one cut to its
// /64 (one host usually holds a whole /64). X-Forwarded-For is not trusted: any client can set it.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil && !ip.IsLoopback() {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// wait returns how long key must still wait before an attempt is checked (0: go ahead).
func (t *loginThrottle) wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.addrs[key]
	if a == nil {
		return 0
	}
	return max(a.next.Sub(now), 0)
}

// failed records a failure of key and returns its failures in a row and the wait it now has.
func (t *loginThrottle) failed(key string, now time.Time) (int, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.addrs == nil {
		t.addrs = map[string]*loginAddr{}
	}
	a := t.addrs[key]
	if a != nil && now.Sub(a.last) > loginForget {
		a.failures = 0
	}
	if a == nil {
		if len(t.addrs) >= loginMaxAddrs {
			t.evict(now)
		}
		a = &loginAddr{}
		t.addrs[key] = a
	}
	a.failures++
	a.last = now
	d := loginDelay(a.failures)
	a.next = now.Add(d)
	return a.failures, d
}

// evict makes room: it forgets every address quiet for loginForget (a sweep at most once a
// minute, so that a flood of new addresses costs no scan each), or else one address (Go's map
// order picks it).
func (t *loginThrottle) evict(now time.Time) {
	if now.Sub(t.swept) >= time.Minute {
		t.swept = now
		for k, a := range t.addrs {
			if now.Sub(a.last) > loginForget {
				delete(t.addrs, k)
			}
		}
		if len(t.addrs) < loginMaxAddrs {
			return
		}
	}
	for k := range t.addrs {
		delete(t.addrs, k)
		return
	}
}

// succeeded forgets key's failures.
func (t *loginThrottle) succeeded(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.addrs, key)
}

// size returns how many addresses the throttle remembers.
func (t *loginThrottle) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.addrs)
}

// ThrottledError is a login attempt refused because its address failed too often: it must wait.
type ThrottledError struct {
	// Wait is how long before the next attempt is checked.
	Wait time.Duration
}

// Error says how long to wait.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("admin API: too many wrong admin tokens from this address: try again in %s", retryAfter(e.Wait))
}

// RetryAfter is the wait in whole seconds, rounded up (at least 1), for a Retry-After header.
func (e *ThrottledError) RetryAfter() int { return int(retryAfter(e.Wait).Seconds()) }

// retryAfter rounds a wait up to whole seconds (at least one), as Retry-After counts.
func retryAfter(d time.Duration) time.Duration {
	return time.Duration(math.Ceil(max(d, time.Second).Seconds())) * time.Second
}

// WriteThrottled answers 429 with Retry-After for a *ThrottledError.
func WriteThrottled(w http.ResponseWriter, e *ThrottledError) {
	w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter()))
	WriteError(w, http.StatusTooManyRequests, e.Error())
}

// checkToken checks a token presented via route via: it returns a *ThrottledError when the
// client's address must wait (the token is not looked at), else whether the token is right. A
// wrong token is logged and counted.
func (a *API) checkToken(r *http.Request, via, token string) (bool, error) {
	key, now := clientKey(r), a.core.Now()
	if d := a.logins.wait(key, now); d > 0 {
		a.loginFailed(LoginFailure{Via: via, Throttled: true})
		return false, &ThrottledError{Wait: d}
	}
	if a.tokenValid(token) {
		a.logins.succeeded(key)
		return true, nil
	}
	n, d := a.logins.failed(key, now)
	args := []any{"client", key, "via", via, "method", r.Method, "path", clipPath(r.URL.Path), "failures", n}
	if d > 0 {
		args = append(args, "next_attempt_in", d.String())
	}
	a.core.Logger().Warn("admin API: wrong admin token", args...)
	a.loginFailed(LoginFailure{Via: via})
	return false, nil
}

func (a *API) loginFailed(f LoginFailure) {
	if a.opts.LoginFailed != nil {
		a.opts.LoginFailed(f)
	}
}

// clipPath bounds a path written to the log.
func clipPath(p string) string {
	if len(p) > 256 {
		return p[:256] + "…"
	}
	return p
}
