package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
)

// countingReader serves n bytes of 'a' and counts how many were read.
type countingReader struct {
	left int64
	read atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > c.left {
		n = c.left
	}
	for i := range p[:n] {
		p[i] = 'a'
	}
	c.left -= n
	c.read.Add(n)
	return int(n), nil
}

// TestBodyLimit_AnswersWithoutReadingItAll sends bodies far over mockserver.MaxBodyBytes: the answer is the
// documented error and the server stops reading just past the limit.
func TestBodyLimit_AnswersWithoutReadingItAll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path, method string
		want               string
	}{
		{"Send_Errno3001", smartappmock.SendPath + "?access_token=static-token-a", http.MethodPost, "business 3001"},
		{"Token_InvalidRequest", smartappmock.TokenPath, http.MethodPost, "oauth invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, "")
			body := &countingReader{left: 64 << 20}
			req := httptest.NewRequest(tt.method, tt.path, body)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			f.srv.ServeHTTP(rec, req)
			if got := rec.Header().Get(smartappmock.HeaderOutcome); got != tt.want {
				t.Errorf("outcome %q, want %q (reason %q)", got, tt.want, rec.Header().Get(smartappmock.HeaderReason))
			}
			if got, limit := body.read.Load(), int64(mockserver.MaxBodyBytes+64<<10); got > limit {
				t.Errorf("read %d bytes of a 64 MiB body; want at most %d", got, limit)
			}
			if !strings.Contains(rec.Header().Get(smartappmock.HeaderReason), "larger than") {
				t.Errorf("reason %q does not say the body is too large", rec.Header().Get(smartappmock.HeaderReason))
			}
		})
	}
}

// TestBodyLimit_AnnouncedTooLarge_RefusedUnread sends a Content-Length over the limit: the send
// is refused with errno 3001 before a single byte of the body is read.
func TestBodyLimit_AnnouncedTooLarge_RefusedUnread(t *testing.T) {
	t.Parallel()
	f := setup(t, "")
	body := &countingReader{left: 64 << 20}
	req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=static-token-a", body)
	req.ContentLength = 64 << 20
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	if got := rec.Header().Get(smartappmock.HeaderOutcome); got != "business 3001" {
		t.Errorf("outcome %q, want business 3001", got)
	}
	if n := body.read.Load(); n != 0 {
		t.Errorf("read %d bytes of a body announced over the limit; want 0", n)
	}
}

// TestBodyAtTheLimit_IsRead checks the limit is not off by one: a valid form padded to exactly
// mockserver.MaxBodyBytes succeeds.
func TestBodyAtTheLimit_IsRead(t *testing.T) {
	t.Parallel()
	f := setup(t, "")
	form := text("user-a", "hi").Encode() + "&pad="
	form += strings.Repeat("p", mockserver.MaxBodyBytes-len(form))
	req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=static-token-a", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if got := f.do(req).Header.Get(smartappmock.HeaderOutcome); got != "business 0" {
		t.Errorf("outcome %q, want business 0", got)
	}
}

// TestHostileInput_AnswersAndKeepsServing sends odd, broken and oversized inputs: each gets an
// HTTP 200 envelope with the expected outcome, reasons stay header-sized, and a valid send works
// afterwards.
func TestHostileInput_AnswersAndKeepsServing(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 512<<10)
	tests := []struct {
		name, query, contentType, body, path string
		want                                 string
	}{
		{name: "InvalidUTF8Content_Errno3001", contentType: "application/x-www-form-urlencoded", body: "user_type=1&open_id=user-a&msg_type=text&content=%FF%FE", want: "business 3001"},
		{name: "InvalidUTF8OpenIDRaw_Errno3001", contentType: "application/x-www-form-urlencoded", body: "user_type=1&open_id=\xc3\x28&msg_type=text&content=hi", want: "business 3001"},
		{name: "UppercaseContentType_Read", contentType: "APPLICATION/X-WWW-FORM-URLENCODED", body: text("user-a", "hi").Encode(), want: "business 0"},
		{name: "GarbageContentType_BodyIgnored", contentType: ";;;=\x01", body: text("user-a", "hi").Encode(), want: "business 3001"},
		{name: "BrokenMultipart_Errno3001", contentType: "multipart/form-data; boundary=zz", body: "--zz\r\nContent-Disposition: form-data; name=\"open_id\"\r\n\r\nuser-a", want: "business 3001"},
		{name: "DuplicateTokens_FirstWins", query: "access_token=static-token-a&access_token=nope", contentType: "application/x-www-form-urlencoded", body: text("user-a", "hi").Encode(), want: "business 0"},
		{name: "ManyRepeatedParameters_BeyondTheCap", contentType: "application/x-www-form-urlencoded", body: text("user-a", "hi").Encode() + strings.Repeat("&open_id=x", 20000), want: "business 3001"}, // more than MaxParams: refused, not parsed,
		{name: "VeryLongContent_Accepted", contentType: "application/x-www-form-urlencoded", body: text("user-a", long).Encode(), want: "business 0"},
		{name: "VeryLongOpenID_Window", contentType: "application/x-www-form-urlencoded", body: text(long, "hi").Encode(), want: "business 90001"},
		{name: "VeryLongMsgType_Errno3001", contentType: "application/x-www-form-urlencoded", body: "user_type=1&open_id=user-a&content=hi&msg_type=" + long, want: "business 3001"},
		{name: "VeryLongUnknownPath_Gateway3", path: "/" + long, want: "gateway 3"},
		{name: "VeryLongToken_Gateway110", query: "access_token=" + long, contentType: "application/x-www-form-urlencoded", body: text("user-a", "hi").Encode(), want: "gateway 110"},
	}
	f := setup(t, "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = smartappmock.SendPath
				q := tt.query
				if q == "" {
					q = "access_token=static-token-a"
				}
				path += "?" + q
			}
			req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(tt.body))
			u, err := url.Parse(path)
			if err != nil {
				t.Fatal(err)
			}
			req.URL = u
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			f.srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, want 200", rec.Code)
			}
			if got := rec.Header().Get(smartappmock.HeaderOutcome); got != tt.want {
				t.Errorf("outcome %q, want %q (reason %.200q)", got, tt.want, rec.Header().Get(smartappmock.HeaderReason))
			}
			if n := len(rec.Header().Get(smartappmock.HeaderReason)); n > 1100 {
				t.Errorf("reason header is %d bytes; want it bounded near 1 KiB", n)
			}
			var m map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
				t.Errorf("body is not JSON: %v", err)
			}
		})
	}
	f.admin(http.MethodPost, "/__admin/apps/1001/messages", `{"open_id":"after"}`, nil)
	if got := f.sendForm("static-token-a", text("after", "still serving")).outcome(t); got.Code != 0 {
		t.Errorf("after the hostile inputs a valid send answered %+v", got)
	}
}

// TestTokenFlood_TenantsBounded sends a flood of distinct sandbox tokens: the store keeps at most
// MaxTenants apps, evicts the idle ones, never a configured app, and its journal stays bounded.
func TestTokenFlood_TenantsBounded(t *testing.T) {
	t.Parallel()
	cfg := configtest.Parse(t, configtest.Strict)
	cfg.Policy.Tokens = config.TokensSandbox
	cfg.Policy.Window.Mode = config.WindowOpenOnFirstSend
	const maxTenants = 64
	mem := memstore.NewWithLimits(cfg.Policy.JournalCap, memstore.Limits{MaxTenants: maxTenants, MaxTokens: 100})
	srv, err := newSandbox(mockserver.Options{Config: cfg, Store: mem})
	if err != nil {
		t.Fatal(err)
	}
	send := func(token, openID string) string {
		req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token="+url.QueryEscape(token), strings.NewReader(text(openID, "hi").Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Header().Get(smartappmock.HeaderOutcome)
	}
	const flood = 20 * maxTenants
	for i := range flood {
		if got := send(fmt.Sprintf("flood-%d", i), "user-x"); got != "business 0" {
			t.Fatalf("flood token %d: outcome %q", i, got)
		}
		if i%maxTenants == 0 {
			if got := send("static-token-a", fmt.Sprintf("user-%d", i)); got != "business 0" {
				t.Fatalf("configured app after %d flood tokens: outcome %q", i, got)
			}
		}
	}
	st := mem.Stats()
	if st.Tenants > maxTenants {
		t.Errorf("store holds %d tenants after %d distinct tokens; want at most %d", st.Tenants, flood, maxTenants)
	}
	if st.JournalEntries > maxTenants*cfg.Policy.JournalCap {
		t.Errorf("journal holds %d entries; want it bounded", st.JournalEntries)
	}
	apps, err := mem.Apps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var configured []string
	for _, a := range apps {
		if a.Source == "config" {
			configured = append(configured, a.ID)
		}
	}
	if diff := cmp.Diff([]string{"1001", "1002", "1003"}, configured); diff != "" {
		t.Errorf("configured apps after the flood (-want +got):\n%s", diff)
	}
	// The newest flood app is still there; the first was evicted and starts afresh.
	if _, ok, _ := mem.App(context.Background(), mockserver.SandboxAppID(fmt.Sprintf("flood-%d", flood-1))); !ok {
		t.Error("the most recent flood app was evicted")
	}
	if _, ok, _ := mem.App(context.Background(), mockserver.SandboxAppID("flood-0")); ok {
		t.Error("the oldest idle flood app was not evicted")
	}
}

// TestTokenFlood_IssuedTokensBounded asks the token endpoint for many tokens: the store keeps at
// most MaxTokens issued tokens, the newest still work, configured tokens are never dropped.
func TestTokenFlood_IssuedTokensBounded(t *testing.T) {
	t.Parallel()
	cfg := configtest.Parse(t, configtest.Strict)
	st := memstore.NewWithLimits(0, memstore.Limits{MaxTokens: 10})
	srv, err := newSandbox(mockserver.Options{Config: cfg, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, srv: srv, clock: newTestClock()}
	var last string
	for range 50 {
		last = f.token("key-a", "secret-a")
	}
	n := st.Stats().Tokens
	// 10 issued (access and refresh alike) plus the 3 configured ones.
	if n != 13 {
		t.Errorf("store holds %d tokens, want 13", n)
	}
	for _, tok := range []string{last, "static-token-a", "static-token-b", "static-token-c"} {
		if _, ok, _ := st.Token(context.Background(), tok); !ok {
			t.Errorf("token %.20s… was dropped", tok)
		}
	}
}

// TestWindowsPerAppBounded opens far more windows than an app keeps: the count stays bounded.
func TestWindowsPerAppBounded(t *testing.T) {
	t.Parallel()
	st := memstore.NewWithLimits(0, memstore.Limits{MaxWindowsPerApp: 100})
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rule := store.WindowRule{Duration: time.Hour, MaxReplies: 5, OpenOnFirst: true}
	for i := range 1000 {
		if _, err := st.TakeReply(ctx, "app", fmt.Sprintf("user-%d", i), at.Add(time.Duration(i)*time.Second), rule); err != nil {
			t.Fatal(err)
		}
		if err := st.OpenWindow(ctx, "app", fmt.Sprintf("writer-%d", i), at); err != nil {
			t.Fatal(err)
		}
	}
	ws, err := st.Windows(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) > 100 {
		t.Errorf("app holds %d windows, want at most 100", len(ws))
	}
}

// TestSlowClients_CannotHoldTheServer opens connections that stall in the headers (slow-loris) or
// in the body against an http.Server built by ServerTimeouts: the server closes them after its
// timeouts, and serves an ordinary client meanwhile.
func TestSlowClients_CannotHoldTheServer(t *testing.T) {
	t.Parallel()
	f := setup(t, "")
	limits := mockserver.ServerTimeouts{ReadHeader: 500 * time.Millisecond, Read: time.Second, Idle: 2 * time.Second, MaxHeaderBytes: 8 << 10}
	hs := limits.HTTPServer(f.srv, nil)
	hs.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	addr := ln.Addr().String()

	stalls := map[string]string{
		"HeadersNeverEnd": "POST " + smartappmock.SendPath + " HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n",
		"BodyNeverEnds":   "POST " + smartappmock.SendPath + "?access_token=static-token-a HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nuser_type=1",
	}
	var conns []net.Conn
	for range 20 {
		for _, s := range stalls {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			if _, err := io.WriteString(c, s); err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
	}
	// An ordinary client is served while the slow ones stall.
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Post("http://"+addr+smartappmock.SendPath+"?access_token=static-token-a", "application/x-www-form-urlencoded", strings.NewReader(text("user-a", "hi").Encode()))
	if err != nil {
		t.Fatalf("ordinary client: %v", err)
	}
	resp.Body.Close()
	if got := resp.Header.Get(smartappmock.HeaderOutcome); got != "business 0" {
		t.Errorf("ordinary client: outcome %q", got)
	}
	client.CloseIdleConnections()
	// Every stalled connection is closed by the server (a generous bound: this checks that it
	// happens, not how fast).
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := io.Copy(io.Discard, bufio.NewReader(c))
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("stalled connection %d still open after 10 s", i)
		}
	}
}

// TestDefaultServerTimeouts_AreSet keeps the command's server from losing its limits.
func TestDefaultServerTimeouts_AreSet(t *testing.T) {
	t.Parallel()
	hs := mockserver.DefaultServerTimeouts().HTTPServer(http.NotFoundHandler(), nil)
	if hs.ReadHeaderTimeout <= 0 || hs.ReadTimeout <= 0 || hs.IdleTimeout <= 0 || hs.MaxHeaderBytes <= 0 {
		t.Errorf("default http.Server misses a limit: header %s, read %s, idle %s, max header bytes %d",
			hs.ReadHeaderTimeout, hs.ReadTimeout, hs.IdleTimeout, hs.MaxHeaderBytes)
	}
	if hs.WriteTimeout != 0 {
		t.Errorf("WriteTimeout %s would cut the live journal stream", hs.WriteTimeout)
	}
}

// TestHeaderNames_AreCanonical guards writeEnvelope, which assigns these headers without
// canonicalizing them.
func TestHeaderNames_AreCanonical(t *testing.T) {
	t.Parallel()
	for _, h := range []string{smartappmock.HeaderOutcome, smartappmock.HeaderReason, smartappmock.HeaderRequestID, "Content-Type", "Content-Length"} {
		if c := textproto.CanonicalMIMEHeaderKey(h); c != h {
			t.Errorf("header %q is not canonical (%q)", h, c)
		}
	}
}

// TestLogLine_CarriesTheRequestID checks the one structured line per request: its id is the
// response header's and the journal entry's.
func TestLogLine_CarriesTheRequestID(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	cfg := configtest.Parse(t, configtest.Strict)
	srv, err := newSandbox(mockserver.Options{Config: cfg, Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=static-token-a", strings.NewReader(text("user-a", "hi").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	var line struct {
		Msg, ID, App, Endpoint, Outcome string
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log is not one JSON line: %v: %s", err, buf.Bytes())
	}
	es, err := srv.Core.Store().Journal(context.Background(), store.Query{})
	if err != nil || len(es) != 1 {
		t.Fatalf("journal: %v, %d entries", err, len(es))
	}
	want := struct{ Msg, ID, App, Endpoint, Outcome string }{"request", rec.Header().Get(smartappmock.HeaderRequestID), "1001", "send", "business 0"}
	if want.ID == "" || es[0].ID != want.ID {
		t.Errorf("request id: header %q, journal %q", want.ID, es[0].ID)
	}
	if diff := cmp.Diff(want, struct{ Msg, ID, App, Endpoint, Outcome string }(line)); diff != "" {
		t.Errorf("log line (-want +got):\n%s", diff)
	}
}
