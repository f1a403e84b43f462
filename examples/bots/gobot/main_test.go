package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/contract/webhook"
)

// reply is one custom/send call the bot made.
type reply struct {
	AccessToken string     // the access_token of the query
	Form        url.Values // user_type, open_id, msg_type, content
}

// sendRecorder is a custom/send endpoint that records every reply and answers errno 0.
type sendRecorder struct {
	URL string // the base URL to give the bot (SMARTAPPMOCK_BASE_URL)

	mu      sync.Mutex
	replies []reply
}

// newSendRecorder starts a sendRecorder, closed when the test ends.
func newSendRecorder(t *testing.T) *sendRecorder {
	t.Helper()
	f := &sendRecorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != sendPath || r.Method != http.MethodPost || r.ParseForm() != nil {
			http.Error(w, "not custom/send", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.replies = append(f.replies, reply{AccessToken: r.URL.Query().Get("access_token"), Form: r.PostForm})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"errno":0,"msg":"success"}`)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// repliesTo returns the replies sent to openID so far.
func (f *sendRecorder) repliesTo(openID string) []reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []reply
	for _, r := range f.replies {
		if r.Form.Get("open_id") == openID {
			out = append(out, r)
		}
	}
	return out
}

// setup starts the bot under httptest with the webhook kit's credentials (contract/webhook),
// replying to a recording custom/send.
func setup(t *testing.T) (*httptest.Server, *sendRecorder) {
	t.Helper()
	api := newSendRecorder(t)
	e := webhook.Env{Token: webhook.Token, AESKey: webhook.AESKey, ClientID: webhook.ClientID, BaseURL: api.URL, AccessToken: webhook.AccessToken}
	env := map[string]string{}
	for _, kv := range e.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	cfg, err := configFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	b := newBot(cfg, &http.Client{}, t.Logf)
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	t.Cleanup(b.replies.Wait) // runs first: no t.Logf after the test
	return srv, api
}

func TestBot_RepliesToEachPush(t *testing.T) {
	t.Parallel()
	srv, api := setup(t)
	body := func(c baidupush.Config) baidupush.Config { c.Envelope = baidupush.EnvelopeBody; return c }
	for i, tc := range []struct {
		name        string
		mode        baidupush.Mode
		format      baidupush.Format
		edit        func(baidupush.Config) baidupush.Config
		msgType     string
		wantContent string
	}{
		{"PlainJSON", baidupush.ModePlain, baidupush.FormatJSON, nil, baidupush.MsgTypeText, "You wrote: hi 0"},
		{"PlainXML", baidupush.ModePlain, baidupush.FormatXML, nil, baidupush.MsgTypeText, "You wrote: hi 1"},
		{"SecureXML", baidupush.ModeSecure, baidupush.FormatXML, nil, baidupush.MsgTypeText, "You wrote: hi 2"},
		{"SecureJSONBodyEnvelope", baidupush.ModeSecure, baidupush.FormatJSON, body, baidupush.MsgTypeText, "You wrote: hi 3"},
		{"CompatibleJSON", baidupush.ModeCompatible, baidupush.FormatJSON, nil, baidupush.MsgTypeText, "You wrote: hi 4"},
		{"PlainXMLImage", baidupush.ModePlain, baidupush.FormatXML, nil, baidupush.MsgTypeImage, "Thanks for the picture!"},
	} {
		c := baidupush.Config{URL: srv.URL, Token: webhook.Token, EncodingAESKey: webhook.AESKey, Mode: tc.mode, Format: tc.format}.WithDefaults(webhook.ClientID)
		if tc.edit != nil {
			c = tc.edit(c)
		}
		openID := "user-" + tc.name
		m := baidupush.Message{ToUserName: webhook.AppID, FromUserName: openID, CreateTime: 1714036504, MsgType: tc.msgType, MsgID: int64(100 + i)}
		if tc.msgType == baidupush.MsgTypeText {
			m.Content = "hi " + string(rune('0'+i))
		} else {
			m.PicURL = "https://example.com/p.png"
		}
		res := baidupush.Deliver(t.Context(), srv.Client(), c, m)
		if !res.Delivered() || len(res.Attempts) != 1 || res.Attempts[0].Body != "success" {
			t.Errorf("%s: Deliver = %+v; want acknowledged with success on the first attempt", tc.name, res)
			continue
		}
		got := waitReplies(t, api, openID, 1)
		want := url.Values{"user_type": {"2"}, "open_id": {openID}, "msg_type": {"text"}, "content": {tc.wantContent}}
		if len(got) != 1 {
			t.Errorf("%s: %d replies; want 1", tc.name, len(got))
			continue
		}
		if diff := cmp.Diff(want, got[0].Form); diff != "" || got[0].AccessToken != webhook.AccessToken {
			t.Errorf("%s: reply mismatch (-want +got):\n%s(access_token %q)", tc.name, diff, got[0].AccessToken)
		}
	}
}

func waitReplies(t *testing.T, api *sendRecorder, openID string, n int) []reply {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		got := api.repliesTo(openID)
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBot_RefusesWithoutActing(t *testing.T) {
	t.Parallel()
	srv, api := setup(t)
	secure := baidupush.Config{URL: srv.URL, Token: webhook.Token, EncodingAESKey: webhook.AESKey, Mode: baidupush.ModeSecure, Format: baidupush.FormatJSON}
	otherKey := secure
	otherKey.EncodingAESKey = strings.Repeat("Z", 43)
	foreign := secure
	foreign.ClientID = "someone-else"
	for i, tc := range []struct {
		name       string
		c          baidupush.Config
		opts       []baidupush.Option
		wantStatus int
		wantBody   string
	}{
		{"WrongSignature", secure.WithDefaults(webhook.ClientID), []baidupush.Option{baidupush.WrongSignature()}, 403, "bad msg_signature"},
		{"WrongPlainSignature", baidupush.Config{URL: srv.URL, Token: "not-the-token", Format: baidupush.FormatXML}, nil, 403, "bad signature"},
		// Decrypting with the wrong key gives garbage: the padding or the length check trips.
		{"WrongKey", otherKey.WithDefaults(webhook.ClientID), nil, 400, ""},
		{"ForeignTrailingID", foreign, nil, 403, `trailing id "someone-else" is not ours`},
		{"StaleTimestamp", secure.WithDefaults(webhook.ClientID), []baidupush.Option{baidupush.WithClock(func() time.Time { return time.Now().Add(-time.Hour) })}, 403, "stale timestamp"},
		{"FutureTimestamp", secure.WithDefaults(webhook.ClientID), []baidupush.Option{baidupush.WithClock(func() time.Time { return time.Now().Add(time.Hour) })}, 403, "stale timestamp"},
	} {
		openID := "refused-" + tc.name
		m := baidupush.Message{ToUserName: webhook.AppID, FromUserName: openID, CreateTime: 1, MsgType: "text", Content: "x", MsgID: int64(200 + i)}
		c := tc.c
		c.Retries = new(int)
		res := baidupush.Deliver(t.Context(), srv.Client(), c, m, tc.opts...)
		a := res.Attempts[0]
		if res.Delivered() || a.Status != tc.wantStatus || !strings.Contains(a.Body, tc.wantBody) {
			t.Errorf("%s: answer HTTP %d %q; want %d containing %q", tc.name, a.Status, a.Body, tc.wantStatus, tc.wantBody)
		}
		if got := api.repliesTo(openID); len(got) != 0 {
			t.Errorf("%s: %d replies; want none", tc.name, len(got))
		}
	}
	// A timestamp and nonce used again: the same bytes are a retry (acknowledged, not replied to
	// twice); another message with them is a replay (refused).
	plain := baidupush.Config{URL: srv.URL, Token: webhook.Token, Format: baidupush.FormatJSON, Retries: new(int)}
	now := time.Now()
	seed := []byte("0123456789abcdefghij")
	same := func() []baidupush.Option {
		return []baidupush.Option{baidupush.WithClock(func() time.Time { return now }), baidupush.WithRand(bytes.NewReader(seed))}
	}
	m := baidupush.Message{ToUserName: webhook.AppID, FromUserName: "replayed", CreateTime: now.Unix(), MsgType: "text", Content: "real", MsgID: 300}
	for _, want := range []int{200, 200} {
		if a := baidupush.Deliver(t.Context(), srv.Client(), plain, m, same()...).Attempts[0]; a.Status != want {
			t.Errorf("the same push again: HTTP %d %q; want %d", a.Status, a.Body, want)
		}
	}
	m.Content, m.MsgID = "forged", 301
	if a := baidupush.Deliver(t.Context(), srv.Client(), plain, m, same()...).Attempts[0]; a.Status != 403 || !strings.Contains(a.Body, "replayed with other bytes") {
		t.Errorf("another message with the same timestamp and nonce: HTTP %d %q; want 403 replayed", a.Status, a.Body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(api.repliesTo("replayed")) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if got := api.repliesTo("replayed"); len(got) != 1 || got[0].Form.Get("content") != "You wrote: real" {
		t.Errorf("replies %+v; want one, to the real message", got)
	}
	resp, err := srv.Client().Post(srv.URL, "text/plain", strings.NewReader("not a push"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("garbage body: HTTP %d; want 400", resp.StatusCode)
	}
}

func TestConfigFromEnv_Outcomes(t *testing.T) {
	t.Parallel()
	base := map[string]string{"SMARTAPPMOCK_PUSH_TOKEN": "t", "SMARTAPPMOCK_ACCESS_TOKEN": "a"}
	for _, tc := range []struct {
		name     string
		env      map[string]string
		wantPort string
		wantBase string
		wantErr  string
	}{
		{"Defaults", nil, "8080", "https://openapi.baidu.com", ""},
		{"BotPortWins", map[string]string{"SMARTAPPMOCK_BOT_PORT": "9001", "PORT": "9002"}, "9001", "https://openapi.baidu.com", ""},
		{"PortFallback", map[string]string{"PORT": "9002", "SMARTAPPMOCK_BASE_URL": "http://127.0.0.1:1/"}, "9002", "http://127.0.0.1:1", ""},
		{"NoToken", map[string]string{"SMARTAPPMOCK_PUSH_TOKEN": ""}, "", "", "SMARTAPPMOCK_PUSH_TOKEN is empty"},
		{"NoAccessToken", map[string]string{"SMARTAPPMOCK_ACCESS_TOKEN": ""}, "", "", "SMARTAPPMOCK_ACCESS_TOKEN is empty"},
		{"ShortKey", map[string]string{"SMARTAPPMOCK_PUSH_AES_KEY": "abc"}, "", "", "has 3 characters; an EncodingAESKey has 43"},
	} {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range tc.env {
			env[k] = v
		}
		c, err := configFromEnv(func(k string) string { return env[k] })
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v; want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || c.Port != tc.wantPort || c.BaseURL != tc.wantBase {
			t.Errorf("%s: port %q, base %q, error %v; want %q, %q, nil", tc.name, c.Port, c.BaseURL, err, tc.wantPort, tc.wantBase)
		}
	}
}

func TestRun_ListensAnswersHandshakeAndStops(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SMARTAPPMOCK_BOT_PORT": "0", "SMARTAPPMOCK_PUSH_TOKEN": "tok", "SMARTAPPMOCK_ACCESS_TOKEN": "a"}
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, pw, io.Discard); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the listening line: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "bot listening on ")
	if !ok {
		t.Fatalf("first line %q; want bot listening on http://…", line)
	}
	if err := baidupush.Handshake(t.Context(), nil, baidupush.Config{URL: addr, Token: "tok"}); err != nil {
		t.Errorf("Handshake = %v; want nil", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run = %v; want nil after the context ends", err)
	}
}

func TestRun_RefusesBadEnvironment(t *testing.T) {
	t.Parallel()
	err := run(t.Context(), func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SMARTAPPMOCK_PUSH_TOKEN is empty") {
		t.Errorf("run = %v; want the missing token named", err)
	}
}
