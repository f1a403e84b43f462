package baidupush_test

import (
	"net/http"
	"testing"

	"github.com/smartappmock/smartappmock/baidupush"
)

// TestNewClient_NoProxyNoCookies: the client dials the bot itself, whatever HTTP_PROXY says, and
// keeps no cookies between pushes.
func TestNewClient_NoProxyNoCookies(t *testing.T) {
	c := baidupush.NewClient()
	defer c.CloseIdleConnections()
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport %T; want *http.Transport", c.Transport)
	}
	if tr.Proxy != nil || c.Jar != nil {
		t.Errorf("proxy set %v, cookie jar %v; want neither", tr.Proxy != nil, c.Jar)
	}
}
