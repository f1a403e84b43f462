package baidupush

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// handshakeSeen is what a handshake bot found where.
type handshakeSeen struct {
	Query, Form url.Values
	ContentType string
}

// newHandshakeBot answers each handshake with answer(echoStr found in the query or the form).
func newHandshakeBot(t *testing.T, answer func(w http.ResponseWriter, echo string)) (*httptest.Server, func() []handshakeSeen) {
	t.Helper()
	var mu sync.Mutex
	var seen []handshakeSeen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		q := r.URL.Query()
		mu.Lock()
		seen = append(seen, handshakeSeen{Query: q, Form: form, ContentType: r.Header.Get("Content-Type")})
		mu.Unlock()
		echo := q.Get(ParamEchoStr)
		if echo == "" {
			echo = form.Get(ParamEchoStr)
		}
		answer(w, echo)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []handshakeSeen { mu.Lock(); defer mu.Unlock(); return append([]handshakeSeen(nil), seen...) }
}

func echoBack(w http.ResponseWriter, echo string) { _, _ = io.WriteString(w, echo) }

func TestHandshake_ParamsWhereConfigured(t *testing.T) {
	t.Parallel()
	at := time.Unix(1714036504, 0)
	for _, tc := range []struct {
		where           HandshakeParams
		inQuery, inForm bool
		wantContentType string
	}{
		{"", true, true, "application/x-www-form-urlencoded"}, // default: both
		{HandshakeBoth, true, true, "application/x-www-form-urlencoded"},
		{HandshakeQuery, true, false, ""},
		{HandshakeForm, false, true, "application/x-www-form-urlencoded"},
	} {
		t.Run(string(tc.where), func(t *testing.T) {
			t.Parallel()
			srv, seen := newHandshakeBot(t, echoBack)
			c := Config{URL: srv.URL + "/push?app=1", Token: "AAAAA", Handshake: tc.where}
			// 4 bytes of nonce (1514711492 = 0x5a48a9c4), then 8 of echoStr.
			rnd := bytes.NewReader([]byte{0x5a, 0x48, 0xa9, 0xc4, 0, 0, 0, 0, 0, 0, 0x30, 0x39})
			if err := Handshake(t.Context(), srv.Client(), c, WithClock(func() time.Time { return at }), WithRand(rnd)); err != nil {
				t.Fatalf("Handshake = %v; want nil", err)
			}
			want := url.Values{"signature": {"f464b24fc39322e44b38aa78f5edd27bd1441696"}, "timestamp": {"1714036504"}, "nonce": {"1514711492"}, "echoStr": {"12345"}}
			got := seen()[0]
			if got.Query.Get("app") != "1" {
				t.Errorf("the URL's own query was lost: %v", got.Query)
			}
			got.Query.Del("app")
			for _, part := range []struct {
				name string
				in   bool
				vals url.Values
			}{{"query", tc.inQuery, got.Query}, {"form", tc.inForm, got.Form}} {
				wantPart := want
				if !part.in {
					wantPart = url.Values{}
				}
				if diff := cmp.Diff(wantPart, part.vals); diff != "" {
					t.Errorf("%s mismatch (-want +got):\n%s", part.name, diff)
				}
			}
			if got.ContentType != tc.wantContentType {
				t.Errorf("Content-Type = %q; want %q", got.ContentType, tc.wantContentType)
			}
		})
	}
}

func TestHandshake_Refused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		answer  func(w http.ResponseWriter, echo string)
		wantErr []string
	}{
		{"WrongBody", func(w http.ResponseWriter, _ string) { _, _ = io.WriteString(w, "success") },
			[]string{`sent echoStr "`, `got HTTP 200 with body "success" (7 bytes)`, "byte for byte"}},
		{"TrailingNewline", func(w http.ResponseWriter, echo string) { _, _ = io.WriteString(w, echo+"\n") },
			[]string{`\n" (`, "byte for byte"}},
		{"Quoted", func(w http.ResponseWriter, echo string) { _, _ = io.WriteString(w, `"`+echo+`"`) },
			[]string{`with body "\"`}},
		{"EchoWith500", func(w http.ResponseWriter, echo string) { w.WriteHeader(500); _, _ = io.WriteString(w, echo) },
			[]string{"got HTTP 500"}},
		{"Empty", func(http.ResponseWriter, string) {}, []string{`got HTTP 200 with body "" (0 bytes)`}},
		{"LongAnswerClipped", func(w http.ResponseWriter, _ string) { _, _ = io.WriteString(w, strings.Repeat("x", 1000)) },
			[]string{`with body "` + strings.Repeat("x", HandshakeEchoBytes) + `"… (64 bytes)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newHandshakeBot(t, tc.answer)
			err := Handshake(t.Context(), srv.Client(), Config{URL: srv.URL, Token: "t"})
			var herr *HandshakeError
			if !errors.As(err, &herr) {
				t.Fatalf("Handshake = %v; want a *HandshakeError", err)
			}
			for _, w := range append(tc.wantErr, "push handshake with "+srv.URL, "signature=", "in the query and form") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q; want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestHandshake_NoAnswer(t *testing.T) {
	t.Parallel()
	// The server notices a client that gave up only once the body is read.
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	defer hang.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, tc := range []struct {
		name, url, wantErr string
	}{
		{"Timeout", hang.URL, "got no answer: timeout: no answer within 50ms"},
		{"ConnectionRefused", closed.URL, "got no answer: connection: "},
	} {
		err := Handshake(t.Context(), nil, Config{URL: tc.url, Token: "t", Timeout: Duration(50 * time.Millisecond)})
		var herr *HandshakeError
		if !errors.As(err, &herr) || herr.Err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: Handshake = %v; want a *HandshakeError containing %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestHandshake_RedirectRefused(t *testing.T) {
	t.Parallel()
	target, seen := newHandshakeBot(t, echoBack)
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	err := Handshake(t.Context(), nil, Config{URL: redirect.URL, Token: "t"})
	if err == nil || !strings.Contains(err.Error(), "got HTTP 307") || len(seen()) != 0 {
		t.Errorf("Handshake via a redirect = %v, %d requests at the target; want HTTP 307 refused, none", err, len(seen()))
	}
}

func TestHandshake_InvalidConfigSendsNothing(t *testing.T) {
	t.Parallel()
	srv, seen := newHandshakeBot(t, echoBack)
	err := Handshake(t.Context(), srv.Client(), Config{URL: srv.URL, Token: "t", Mode: ModeSecure})
	if err == nil || !strings.Contains(err.Error(), "encoding_aes_key: empty") || len(seen()) != 0 {
		t.Errorf("Handshake = %v with %d requests; want the configuration's problems and none", err, len(seen()))
	}
}
