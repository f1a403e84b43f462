// Package mockservertest runs the fake Baidu service inside Go tests, in the style of
// net/http/httptest: New starts it on 127.0.0.1:0 and closes it when the test ends; Client and
// Transport reach it under its real name, https://openapi.baidu.com (or http://), so code that
// hard-codes Baidu's address needs no change beyond taking a client.
//
// For code that cannot take a client (Baidu's own Go SDK builds its http.Client on
// http.DefaultTransport), SwapDefaultTransport replaces http.DefaultTransport for the duration of
// one test. It changes a process global: it refuses to run in a parallel test.
//
// Nothing leaves the machine: the transport proxies openapi.baidu.com to the fake and refuses to
// dial any address but the fake's own.
package mockservertest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/mockserver/proxy"
	"github.com/smartappmock/smartappmock/mockserver/sandbox"
	"github.com/smartappmock/smartappmock/tlsca"
)

// Server is a running fake on a loopback port. Its listener also acts as the HTTPS proxy of
// package proxy, which is how Client and Transport reach openapi.baidu.com.
type Server struct {
	// URL is the fake's base URL, http://127.0.0.1:port (https:// for a TLS server). It is also
	// the proxy URL to give an unmodified client as HTTPS_PROXY.
	URL string
	// Fake is the fake's API core: its store (journal, live feed) and configuration.
	Fake *mockserver.Server
	// Admin is the fake's admin API.
	Admin *admin.API
	// CA signs the fake's certificate (for openapi.baidu.com, localhost, 127.0.0.1 and ::1).
	CA *tlsca.CA

	hs        *httptest.Server
	proxy     *proxy.Proxy
	transport *http.Transport
	closeOnce sync.Once
}

// Options configure Start.
type Options struct {
	// Server configures the fake; its zero value serves the embedded default configuration.
	Server mockserver.Options
	// Admin configures the admin API (CACert is filled in by Start).
	Admin admin.Options
	// TLS serves HTTPS on the listener instead of HTTP.
	TLS bool
}

// New starts a fake with cfg (nil: the embedded default) on http://127.0.0.1:0 and closes it
// when the test ends. It fails the test if the fake cannot start.
func New(t testing.TB, cfg *config.Config) *Server {
	t.Helper()
	return mustStart(t, Options{Server: mockserver.Options{Config: cfg}})
}

// NewTLS is New with HTTPS on the listener: URL is https://127.0.0.1:port.
func NewTLS(t testing.TB, cfg *config.Config) *Server {
	t.Helper()
	return mustStart(t, Options{Server: mockserver.Options{Config: cfg}, TLS: true})
}

func mustStart(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("mockservertest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake without a test to tie it to; the caller must Close it.
func Start(opts Options) (*Server, error) {
	ca, err := tlsca.New()
	if err != nil {
		return nil, err
	}
	sc, err := ca.ServerConfig()
	if err != nil {
		return nil, err
	}
	adm := opts.Admin
	adm.CACert = ca.CertPEM()
	adm.LoopbackOnly = false // httptest names the server 127.0.0.1, and the proxy openapi.baidu.com
	sb, err := sandbox.New(opts.Server, adm)
	if err != nil {
		return nil, err
	}
	px := proxy.New(sb, sb.Core, sc)
	hs := httptest.NewUnstartedServer(px)
	if opts.TLS {
		hs.TLS = sc
		hs.StartTLS()
	} else {
		hs.Start()
	}
	s := &Server{URL: hs.URL, Fake: sb.Core, Admin: sb.Admin, CA: ca, hs: hs, proxy: px}
	s.transport = s.newTransport()
	return s, nil
}

// Close stops the fake: it ends held requests and tunnels and waits for the others to finish.
// Closing twice is harmless.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.Fake.ReleaseFaults() // requests held by a fault (timeout, drip) end now
		s.transport.CloseIdleConnections()
		_ = s.proxy.Close()
		s.hs.Close()
	})
}

// Transport returns the server's transport: it sends requests for openapi.baidu.com (http and
// https) to the fake through its proxy, trusting only the fake's CA; requests to URL go straight to
// the fake; any other address is refused without being dialled.
func (s *Server) Transport() *http.Transport { return s.transport }

// Client returns a client on Transport. Like Baidu's Go SDK, it has a 3 second timeout.
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: s.transport, Timeout: 3 * time.Second}
}

func (s *Server) newTransport() *http.Transport {
	proxyURL, _ := url.Parse(s.URL)
	fakeAddr := s.hs.Listener.Addr().String()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Transport{
		Proxy: func(r *http.Request) (*url.URL, error) {
			if h := r.URL.Hostname(); strings.EqualFold(h, smartappmock.BaiduHost) || strings.EqualFold(h, smartappmock.SPAPIHost) {
				return proxyURL, nil
			}
			return nil, nil
		},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr != fakeAddr {
				return nil, fmt.Errorf("mockservertest: refusing to dial %s: only %s (routed to the fake) and the fake itself (%s) are reachable", addr, smartappmock.BaiduHost, fakeAddr)
			}
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig:     s.CA.ClientConfig(),
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
}

// CAFile writes the CA certificate (PEM) into a temporary directory of the test and returns its
// path, for a subprocess's SSL_CERT_FILE or curl --cacert.
func (s *Server) CAFile(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "smartappmock-ca.pem")
	if err := os.WriteFile(p, s.CA.CertPEM(), 0o644); err != nil {
		t.Fatalf("mockservertest: %v", err)
	}
	return p
}

// SwapDefaultTransport replaces http.DefaultTransport with Transport until the test ends, for
// code that cannot be handed a client, such as Baidu's Go SDK (it builds http.Client{Timeout: 3s}
// on the default transport). http.DefaultClient and every client without a Transport then reach
// the fake for openapi.baidu.com, and cannot reach anything else.
//
// It changes a process global, so it is NOT safe for parallel tests: it fails the test (as
// t.Setenv does) when the test or an ancestor called t.Parallel, and a test calling it must not
// run beside others that use the network.
func (s *Server) SwapDefaultTransport(t testing.TB) {
	t.Helper()
	// t.Setenv panics in parallel tests: the guard that this global change needs.
	t.Setenv("SMARTAPPMOCK_DEFAULT_TRANSPORT_SWAPPED", "1")
	old := http.DefaultTransport
	http.DefaultTransport = s.transport
	t.Cleanup(func() { http.DefaultTransport = old })
}
