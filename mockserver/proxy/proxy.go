// Package proxy is the fake's HTTP proxy: it answers for openapi.baidu.com only (CONNECT tunnels
// terminated with the fake's CA, plain-HTTP proxy requests) and hands every request to the fake's
// handler, so that an unmodified client run with HTTPS_PROXY reaches the fake. It never dials
// anything.
package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver"
)

// Proxy serves the fake and also acts as an HTTP proxy that answers for openapi.baidu.com only, so
// that an unmodified client run with HTTPS_PROXY (or HTTP_PROXY) reaches the fake:
//
//   - CONNECT openapi.baidu.com:443 is accepted and the tunnel is terminated here, with a
//     certificate the client must trust (the fake's CA); the requests inside go to the fake.
//   - A plain-HTTP proxy request for http://openapi.baidu.com/... goes to the fake.
//   - Any other host is refused with 403 and a clear message. The proxy never dials anything:
//     nothing leaves the machine.
//   - Ordinary requests (not proxy requests) go to the fake as they are.
type Proxy struct {
	fake    http.Handler
	release func()
	tls     *tls.Config
	log     *slog.Logger

	inner   *http.Server
	tunnels *connListener
	start   sync.Once
}

// New returns a proxy in front of the fake's handler. core is the API core (its faults are released
// on Shutdown, its logger used); tlsConfig is the server configuration used to terminate CONNECT
// tunnels (see tlsca.CA.ServerConfig); nil refuses CONNECT with a message that says so. Requests
// inside tunnels get the same limits as the fake's own listeners (mockserver.DefaultServerTimeouts).
func New(fake http.Handler, core *mockserver.Server, tlsConfig *tls.Config) *Proxy {
	log := core.Logger()
	p := &Proxy{fake: fake, release: core.ReleaseFaults, tls: tlsConfig, log: log, tunnels: newConnListener()}
	p.inner = mockserver.DefaultServerTimeouts().HTTPServer(fake, slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	return p
}

// isBaidu reports whether a proxy target (host or host:port) is openapi.baidu.com.
func isBaidu(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	return strings.EqualFold(host, smartappmock.BaiduHost) || strings.EqualFold(host, smartappmock.SPAPIHost) // the v1 login's host
}

// ServeHTTP handles CONNECT, absolute-form proxy requests and ordinary requests.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodConnect:
		p.serveConnect(w, r)
	case r.URL.IsAbs() || r.URL.Host != "":
		if !isBaidu(r.URL.Host) {
			p.refuse(w, r, r.URL.Host)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Scheme, r2.URL.Host = "", ""
		r2.RequestURI = r2.URL.RequestURI()
		r2.Header.Del("Proxy-Connection")
		r2.Header.Del("Proxy-Authorization")
		p.fake.ServeHTTP(w, r2)
	default:
		p.fake.ServeHTTP(w, r)
	}
}

// refuse answers 403 to a proxy request for another host.
func (p *Proxy) refuse(w http.ResponseWriter, r *http.Request, target string) {
	msg := fmt.Sprintf("smartappmock: refusing to proxy to %q: this proxy answers only for %s and never connects anywhere (offline by design)", target, smartappmock.BaiduHost)
	p.log.Warn("proxy refused", "method", r.Method, "target", target)
	w.Header().Set(smartappmock.HeaderReason, mockserver.HeaderSafe(msg))
	http.Error(w, msg, http.StatusForbidden)
}

func (p *Proxy) serveConnect(w http.ResponseWriter, r *http.Request) {
	if !isBaidu(r.Host) {
		p.refuse(w, r, r.Host)
		return
	}
	if p.tls == nil {
		msg := "smartappmock: this proxy has no certificate to answer CONNECT with (start it with a CA)"
		w.Header().Set(smartappmock.HeaderReason, msg)
		http.Error(w, msg, http.StatusNotImplemented)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "smartappmock: cannot take over this connection for a tunnel: "+err.Error(), http.StatusInternalServerError)
		return
	}
	_ = conn.SetDeadline(time.Time{})
	if _, err := brw.WriteString("HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		_ = conn.Close()
		return
	}
	if err := brw.Flush(); err != nil {
		_ = conn.Close()
		return
	}
	var inner net.Conn = conn
	if brw.Reader.Buffered() > 0 {
		inner = &bufferedConn{Conn: conn, r: brw.Reader}
	}
	p.start.Do(func() { go func() { _ = p.inner.Serve(p.tunnels) }() })
	if !p.tunnels.push(tls.Server(inner, p.tls)) {
		_ = conn.Close()
	}
}

// Close closes every tunnel at once.
func (p *Proxy) Close() error {
	p.tunnels.Close()
	return p.inner.Close()
}

// Shutdown stops taking tunnels, ends requests held by a fault (Server.ReleaseFaults), and waits
// for the other requests inside open tunnels to finish, or ctx.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.release()
	p.tunnels.Close()
	return p.inner.Shutdown(ctx)
}

// bufferedConn is a hijacked connection whose reader already holds bytes of the tunnel.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// NetConn returns the underlying connection.
func (c *bufferedConn) NetConn() net.Conn { return c.Conn }

// connListener is a net.Listener fed with connections by CONNECT.
type connListener struct {
	ch     chan net.Conn
	done   chan struct{}
	closed sync.Once
}

func newConnListener() *connListener {
	return &connListener{ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *connListener) push(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.closed.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() net.Addr { return tunnelAddr{} }

type tunnelAddr struct{}

func (tunnelAddr) Network() string { return "tunnel" }
func (tunnelAddr) String() string  { return smartappmock.BaiduHost + ":443" }
