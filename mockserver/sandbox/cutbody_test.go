package sandbox

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/store"
)

// TestCutBody_AnswersInvalidAndCountsNothing sends a body that does not fully arrive (a
// Content-Length of 200, 51 bytes, then the client's half of the connection closes): the fake
// answers 3001 with the reason, journals it as such, and the user's five replies are untouched.
func TestCutBody_AnswersInvalidAndCountsNothing(t *testing.T) {
	t.Parallel()
	f := setup(t, "")
	hs := httptest.NewServer(f.srv)
	t.Cleanup(hs.Close)
	conn, err := net.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := text("user-a", "hello, this body will be cut").Encode()[:51]
	fmt.Fprintf(conn, "POST %s?access_token=static-token-a HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n%s",
		smartappmock.SendPath, hs.Listener.Addr(), body)
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a cut body: %v", err)
	}
	res.Body.Close()
	if got := res.Header.Get(smartappmock.HeaderOutcome); got != "business 3001" {
		t.Errorf("outcome %q, want business 3001", got)
	}
	if r := res.Header.Get(smartappmock.HeaderReason); !strings.Contains(r, "cut after 51 of 200 bytes") {
		t.Errorf("reason %q does not say the body was cut", r)
	}
	es := f.journal(store.Query{Limit: 1})
	if len(es) != 1 || es[0].Code != 3001 || !strings.Contains(es[0].Reason, "cut after") {
		t.Errorf("journal: %+v, want the cut send as a 3001", es)
	}
	var got []string
	for range 6 {
		got = append(got, f.sendForm("static-token-a", text("user-a", "hi")).Header.Get(smartappmock.HeaderOutcome))
	}
	want := []string{"business 0", "business 0", "business 0", "business 0", "business 0", "business 90001"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("after the cut body, the window gave %v, want five replies then 90001", got)
	}
}
