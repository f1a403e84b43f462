package mockserver

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// bodyResult is what the test handler saw: readBody's body and error.
type bodyResult struct {
	body []byte
	err  error
}

// bodyServer starts a loopback HTTP server whose handler calls readBody and hands the result to
// the returned channel. A request with the header X-Read-Deadline: now has its read deadline set
// in the past before the read, as a server's ReadTimeout would (without waiting for one).
func bodyServer(t *testing.T) (addr string, results <-chan bodyResult) {
	t.Helper()
	ch := make(chan bodyResult, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Read-Deadline") == "now" {
			if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
				t.Errorf("SetReadDeadline: %v", err)
			}
		}
		body, err := readBody(r)
		ch <- bodyResult{body: body, err: err}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), ch
}

// sendHead is the start of a send request, up to its body's framing headers.
const sendHead = "POST /rest/2.0/smartapp/message/custom/send HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
	"Content-Type: application/x-www-form-urlencoded\r\n"

// dialBodyServer starts a bodyServer and returns a connection to it, closed when the test ends.
func dialBodyServer(t *testing.T) (net.Conn, <-chan bodyResult) {
	t.Helper()
	addr, results := bodyServer(t)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, results
}

// TestReadBody_OverRealConnections sends bodies over loopback TCP the way a broken or hostile
// client does, and checks how readBody reports each: complete, cut, or too large.
func TestReadBody_OverRealConnections(t *testing.T) {
	t.Parallel()
	const part = "user_type=1&open_id=user-a&msg_type=text&content=he" // 51 bytes
	if len(part) != 51 {
		t.Fatalf("part is %d bytes", len(part))
	}
	chunkedTooLarge := func() string {
		var b strings.Builder
		chunk := strings.Repeat("a", 64<<10)
		for range MaxBodyBytes/len(chunk) + 1 {
			b.WriteString("10000\r\n" + chunk + "\r\n")
		}
		return b.String() + "0\r\n\r\n"
	}()
	tests := []struct {
		name    string
		headers string
		body    string
		// then: "close" closes the connection after the body, "halfclose" only its write side,
		// "stall" keeps it open and silent.
		then       string
		wantBody   string
		wantCut    bool
		wantCause  error
		wantReason string
		wantLarge  bool
	}{
		{name: "Complete_Read", headers: "Content-Length: 51\r\n", body: part, then: "stall", wantBody: part},
		{name: "Chunked_Complete_Read", headers: "Transfer-Encoding: chunked\r\n", body: "33\r\n" + part + "\r\n0\r\n\r\n", then: "stall", wantBody: part},
		{name: "ShortThenHalfClose_Cut", headers: "Content-Length: 200\r\n", body: part, then: "halfclose", wantCut: true, wantCause: io.ErrUnexpectedEOF, wantReason: "body: cut after 51 of 200 bytes (unexpected EOF)"},
		{name: "ShortThenClose_Cut", headers: "Content-Length: 200\r\n", body: part, then: "close", wantCut: true, wantCause: io.ErrUnexpectedEOF, wantReason: "body: cut after 51 of 200 bytes (unexpected EOF)"},
		{name: "ShortThenStall_ReadDeadline_Cut", headers: "Content-Length: 200\r\nX-Read-Deadline: now\r\n", body: part, then: "stall", wantCut: true, wantCause: os.ErrDeadlineExceeded, wantReason: "(read timeout)"},
		{name: "ChunkedCutMidChunk_Cut", headers: "Transfer-Encoding: chunked\r\n", body: "c8\r\n" + part, then: "halfclose", wantCut: true, wantCause: io.ErrUnexpectedEOF, wantReason: "body: cut after 51 bytes (unexpected EOF)"},
		{name: "AnnouncedTooLarge_MaxBytesError", headers: "Content-Length: 1048577\r\n", body: part, then: "stall", wantLarge: true},
		{name: "ChunkedTooLarge_MaxBytesError", headers: "Transfer-Encoding: chunked\r\n", body: chunkedTooLarge, then: "stall", wantLarge: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conn, results := dialBodyServer(t)
			// Write from a goroutine: the server stops reading a too-large body part-way.
			go func() {
				_, _ = io.WriteString(conn, sendHead+tt.headers+"\r\n"+tt.body)
				switch tt.then {
				case "close":
					conn.Close()
				case "halfclose":
					_ = conn.(*net.TCPConn).CloseWrite()
				}
			}()
			var res bodyResult
			select {
			case res = <-results:
			case <-time.After(10 * time.Second):
				t.Fatal("the handler saw no request in 10 s")
			}
			var tooLarge *http.MaxBytesError
			if got := errors.As(res.err, &tooLarge); got != tt.wantLarge {
				t.Fatalf("too large: %v, want %v (err %v)", got, tt.wantLarge, res.err)
			}
			if got := errors.Is(res.err, errBodyCut); got != tt.wantCut {
				t.Fatalf("cut: %v, want %v (err %v)", got, tt.wantCut, res.err)
			}
			if tt.wantCause != nil && !errors.Is(res.err, tt.wantCause) {
				t.Fatalf("err %v does not match cause %v", res.err, tt.wantCause)
			}
			if tt.wantReason != "" && (res.err == nil || !strings.Contains(res.err.Error(), tt.wantReason)) {
				t.Fatalf("err %v does not contain %q", res.err, tt.wantReason)
			}
			if res.err != nil && res.body != nil {
				t.Fatalf("body %q returned with error %v; want none", res.body, res.err)
			}
			if res.err == nil && !bytes.Equal(res.body, []byte(tt.wantBody)) {
				t.Fatalf("body %q, want %q", res.body, tt.wantBody)
			}
		})
	}
}

// TestBodyCutError_DescribesCause checks the reason text of each kind of cut, without addresses.
func TestBodyCutError_DescribesCause(t *testing.T) {
	t.Parallel()
	reset := &net.OpError{Op: "read", Net: "tcp", Source: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080},
		Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5555}, Err: errors.New("connection reset by peer")}
	tests := []struct {
		name string
		err  *bodyCutError
		want string
	}{
		{name: "UnexpectedEOF_WithLength", err: &bodyCutError{read: 51, announced: 200, cause: io.ErrUnexpectedEOF}, want: "body: cut after 51 of 200 bytes (unexpected EOF)"},
		{name: "Timeout_Chunked", err: &bodyCutError{read: 0, announced: -1, cause: os.ErrDeadlineExceeded}, want: "body: cut after 0 bytes (read timeout)"},
		{name: "Reset_NoAddresses", err: &bodyCutError{read: 7, announced: 9, cause: reset}, want: "body: cut after 7 of 9 bytes (connection reset by peer)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Fatalf("Error() = %q, want %q", got, tt.want)
			}
			if !errors.Is(tt.err, errBodyCut) || !errors.Is(tt.err, tt.err.cause) {
				t.Fatalf("%v matches neither errBodyCut nor its cause", tt.err)
			}
		})
	}
}

// TestReadBody_CompleteBody_ConnectionKeptAlive sends two requests, one after the other, on one
// connection: readBody closes a body it read to its end, and the connection must still serve the
// next request (with a Content-Length and chunked).
func TestReadBody_CompleteBody_ConnectionKeptAlive(t *testing.T) {
	t.Parallel()
	const part = "user_type=1&open_id=user-a&msg_type=text&content=he" // 51 bytes (0x33)
	tests := []struct{ name, headers, body string }{
		{name: "ContentLength", headers: "Content-Length: 51\r\n", body: part},
		{name: "Chunked", headers: "Transfer-Encoding: chunked\r\n", body: "33\r\n" + part + "\r\n0\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conn, results := dialBodyServer(t)
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			rd := bufio.NewReader(conn)
			for i := range 2 {
				if _, err := io.WriteString(conn, sendHead+tt.headers+"\r\n"+tt.body); err != nil {
					t.Fatalf("request %d: write: %v", i+1, err)
				}
				res, err := http.ReadResponse(rd, nil)
				if err != nil {
					t.Fatalf("request %d: no answer on the same connection: %v", i+1, err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK || res.Close {
					t.Fatalf("request %d: status %d, close %v; want 200 on a kept-alive connection", i+1, res.StatusCode, res.Close)
				}
				if got := <-results; got.err != nil || string(got.body) != part {
					t.Fatalf("request %d: body %q, err %v; want %q", i+1, got.body, got.err, part)
				}
			}
		})
	}
}
