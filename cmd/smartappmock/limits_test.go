package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock"
)

// TestServe_OversizedHeaderOrURL_Go431 pins what docs/operations.md says: headers (the request
// line included) beyond mockserver.DefaultServerTimeouts().MaxHeaderBytes are answered by Go's
// http.Server itself, with a plain-text 431 and a closed connection, before any handler of the fake
// runs: no Baidu envelope is possible there. Headers under the limit reach the fake.
func TestServe_OversizedHeaderOrURL_Go431(t *testing.T) {
	t.Parallel()
	base, _, _ := startServe(t, []string{"--addr", "127.0.0.1:0"}, nil)
	addr := strings.TrimPrefix(base, "http://")
	big := strings.Repeat("a", 80<<10)
	for _, tt := range []struct {
		name, target, header string
		want                 int
	}{
		{"LongURL_431", smartappmock.SendPath + "?access_token=t&x=" + big, "", http.StatusRequestHeaderFieldsTooLarge},
		{"LongHeader_431", smartappmock.SendPath + "?access_token=t", "X-Big: " + big + "\r\n", http.StatusRequestHeaderFieldsTooLarge},
		{"HeaderUnderTheLimit_Envelope", smartappmock.SendPath + "?access_token=t", "X-Big: " + big[:60<<10] + "\r\n", http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			go func() { // the server may answer before it has read everything
				_, _ = io.WriteString(conn, "POST "+tt.target+" HTTP/1.1\r\nHost: "+addr+"\r\n"+tt.header+"Content-Length: 0\r\n\r\n")
			}()
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if got := resp.Header.Get(smartappmock.HeaderOutcome); (tt.want == http.StatusOK) != (got != "") {
				t.Errorf("outcome header %q: want one exactly when the fake answered", got)
			}
		})
	}
}
