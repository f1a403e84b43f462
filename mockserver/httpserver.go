package mockserver

import (
	"log"
	"net/http"
	"time"
)

// ServerTimeouts are the limits of the http.Server that serves the fake: they keep a slow or
// hostile client (slow-loris headers, a trickled body, idle keep-alives) from holding the server.
type ServerTimeouts struct {
	// ReadHeader is how long a client may take to send the request headers.
	ReadHeader time.Duration
	// Read is how long a client may take to send the whole request, body included.
	Read time.Duration
	// Idle is how long a keep-alive connection may wait for its next request.
	Idle time.Duration
	// MaxHeaderBytes bounds the request headers.
	MaxHeaderBytes int
}

// DefaultServerTimeouts are the limits of the command: generous for any real client (the Baidu
// SDKs give up after 1 to 10 s), tight enough that idle or stalled connections are let go. There is
// no write timeout, so the live journal stream of the inbox is not cut.
func DefaultServerTimeouts() ServerTimeouts {
	return ServerTimeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Idle: 120 * time.Second, MaxHeaderBytes: 64 << 10}
}

// HTTPServer returns an http.Server for h with these limits; errorLog may be nil.
func (t ServerTimeouts) HTTPServer(h http.Handler, errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    t.MaxHeaderBytes,
		ErrorLog:          errorLog,
	}
}
