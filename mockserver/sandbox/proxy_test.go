package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/proxy"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/tlsca"
)

// proxyFixture is a fake behind a Proxy on a loopback listener, and a CA its tunnels use.
type proxyFixture struct {
	*fixture
	ca       *tlsca.CA
	proxyURL *url.URL
}

func setupProxy(t *testing.T) *proxyFixture {
	t.Helper()
	f := setupOpts(t, "", func(o *mockserver.Options) { o.FaultHold = 5 * time.Second })
	ca, err := tlsca.New()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ca.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	p := proxy.New(f.srv, f.srv.Core, sc)
	ts := httptest.NewServer(p)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { _ = p.Close() })
	u, _ := url.Parse(ts.URL)
	return &proxyFixture{fixture: f, ca: ca, proxyURL: u}
}

// client is what an unmodified client gets from HTTPS_PROXY and a trusted CA.
func (f *proxyFixture) client() *http.Client {
	tr := &http.Transport{Proxy: http.ProxyURL(f.proxyURL), TLSClientConfig: f.ca.ClientConfig(), DisableKeepAlives: true}
	f.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func (f *proxyFixture) send(c *http.Client, base, openID string) (*http.Response, string, error) {
	resp, err := c.Post(base+smartappmock.SendPath+"?access_token=static-token-a", "application/x-www-form-urlencoded",
		strings.NewReader(text(openID, "hi").Encode()))
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func TestProxy_AnswersForBaidu(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base, wantTLS string
	}{
		{"HTTPS_ThroughCONNECT", smartappmock.BaiduBaseURL, "openapi.baidu.com"},
		{"PlainHTTP_AbsoluteForm", "http://" + smartappmock.BaiduHost, ""},
		{"HTTPS_ExplicitPort", smartappmock.BaiduBaseURL + ":443", "openapi.baidu.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setupProxy(t)
			resp, body, err := f.send(f.client(), tc.base, "user-a")
			if err != nil {
				t.Fatal(err)
			}
			if body != `{"errno":0,"msg":"success"}` {
				t.Errorf("body = %s, want the fake's success envelope", body)
			}
			gotTLS := ""
			if resp.TLS != nil {
				for _, name := range resp.TLS.PeerCertificates[0].DNSNames {
					if name == tc.wantTLS {
						gotTLS = name
					}
				}
			}
			if gotTLS != tc.wantTLS {
				t.Errorf("TLS certificate name %q, want %q", gotTLS, tc.wantTLS)
			}
			if es := f.journal(store.Query{App: "1001"}); len(es) != 1 || es[0].Path != smartappmock.SendPath {
				t.Errorf("journal = %+v", es)
			}
		})
	}
}

func TestProxy_RefusesEveryOtherHost(t *testing.T) {
	t.Parallel()
	f := setupProxy(t)
	// A real listener on loopback: the proxy must not connect to it even when asked.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	tests := []struct {
		name, method, target string
	}{
		{"CONNECT_Example", http.MethodConnect, "example.com:443"},
		{"CONNECT_BaiduLookalike", http.MethodConnect, "openapi.baidu.com.evil.test:443"},
		{"CONNECT_Loopback", http.MethodConnect, ln.Addr().String()},
		{"GET_Example", http.MethodGet, "http://example.com/"},
		{"GET_Loopback", http.MethodGet, "http://" + ln.Addr().String() + "/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := rawProxyRequest(t, f.proxyURL.Host, tc.method, tc.target)
			if status != http.StatusForbidden || !strings.Contains(body, "answers only for openapi.baidu.com") || !strings.Contains(body, "offline by design") {
				t.Errorf("%s %s: %d %q, want 403 with the reason", tc.method, tc.target, status, body)
			}
		})
	}
	// The standard client reports the refusal.
	_, _, err = f.send(f.client(), "https://example.com", "user-a")
	if err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("client error = %v, want a refused CONNECT", err)
	}
	select {
	case <-accepted:
		t.Error("the proxy connected to the loopback listener")
	case <-time.After(20 * time.Millisecond):
	}
}

// rawProxyRequest writes one proxy request by hand and returns the status and body.
func rawProxyRequest(t *testing.T, proxyAddr, method, target string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", proxyAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	host := target
	if u, err := url.Parse(target); err == nil && u.Host != "" {
		host = u.Host
	}
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: %s\r\n\r\n", method, target, host)
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestProxy_FaultsThroughTheTunnel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		openID string
		check  func(resp *http.Response, body string, err error) bool
	}{
		{"fault_reset", func(_ *http.Response, _ string, err error) bool { return errors.Is(err, syscall.ECONNRESET) }},
		{"fault_empty", func(_ *http.Response, _ string, err error) bool { return errors.Is(err, io.EOF) }},
		{"fault_http_503", func(resp *http.Response, _ string, err error) bool { return err == nil && resp.StatusCode == 503 }},
		{"fault_truncated", func(_ *http.Response, body string, err error) bool {
			return err == nil && isJSONSyntaxError([]byte(body))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.openID, func(t *testing.T) {
			t.Parallel()
			f := setupProxy(t)
			resp, body, err := f.send(f.client(), smartappmock.BaiduBaseURL, tc.openID)
			if !tc.check(resp, body, err) {
				t.Errorf("%s through the HTTPS tunnel: resp %v body %q err %v", tc.openID, resp != nil, body, err)
			}
			es := f.journal(store.Query{OpenID: tc.openID})
			if len(es) != 1 || !strings.Contains(es[0].Fault, "magic:"+tc.openID) {
				t.Errorf("journal = %+v", es)
			}
		})
	}
}

func TestProxy_OrdinaryRequestsReachTheFake(t *testing.T) {
	t.Parallel()
	f := setupProxy(t)
	resp, err := http.Get("http://" + f.proxyURL.Host + "/__admin/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if diff := cmp.Diff(200, resp.StatusCode); diff != "" {
		t.Errorf("health through the proxy listener (-want +got):\n%s", diff)
	}
}
