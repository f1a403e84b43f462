package baidupush

import (
	"net"
	"net/http"
	"time"
)

// NewClient returns an HTTP client for handshakes and pushes: no proxy from the environment (a
// bot under test is usually on loopback), no cookies, a few idle connections per host so that
// the retries of one delivery reuse one connection. Deliver and Handshake bound each attempt
// with Config.Timeout themselves. Take one per delivery and close its idle connections when it
// ends (CloseIdleConnections), so that nothing lingers.
func NewClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}}
}
