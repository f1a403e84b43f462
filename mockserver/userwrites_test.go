package mockserver_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
)

// userWritesConfig has an app without a push configuration (1001) and one whose configuration
// file sets one (1002).
const userWritesConfig = `
version: 1
apps:
  - id: "1001"
    client_id: key-a
    client_secret: s
  - id: "1002"
    client_id: key-b
    client_secret: s
    push:
      url: http://127.0.0.1:9/
      token: file-token
`

// userWritesAt is the server clock of the tests: every app's clock too (no offset).
var userWritesAt = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)

// noPusher hides store.Pusher from the Store it wraps: a store that keeps no push configuration.
type noPusher struct{ store.Store }

// newUserWritesServer returns a core on userWritesConfig, on st (nil: an in-memory store).
func newUserWritesServer(t testing.TB, st store.Store) *mockserver.Server {
	t.Helper()
	cfg, err := config.Parse("userwrites.yaml", []byte(userWritesConfig))
	if err != nil {
		t.Fatal(err)
	}
	s, err := mockserver.New(mockserver.Options{Config: cfg, Store: st, Now: func() time.Time { return userWritesAt }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// scriptedBot echoes the handshake, then answers pushes: 503 for the first failFirst, then
// success; with refuse, 403 to every push.
type scriptedBot struct {
	mu        sync.Mutex
	failFirst int
	refuse    bool
	pushes    int
}

func (b *scriptedBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if echo := r.URL.Query().Get(baidupush.ParamEchoStr); echo != "" {
		_, _ = io.WriteString(w, echo)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pushes++
	switch {
	case b.refuse:
		http.Error(w, "no", http.StatusForbidden)
	case b.pushes <= b.failFirst:
		http.Error(w, "busy", http.StatusServiceUnavailable)
	default:
		_, _ = io.WriteString(w, "success")
	}
}

// pushTo points app's pushes at bot (after the handshake) with retries retries.
func pushTo(t testing.TB, s *mockserver.Server, app string, bot http.Handler, retries int) {
	t.Helper()
	srv := httptest.NewServer(bot)
	t.Cleanup(srv.Close)
	cfg := config.Push{Config: baidupush.Config{URL: srv.URL + "/hook", Token: "bot-token", Format: baidupush.FormatJSON, Retries: &retries}}
	if _, err := s.SetPush(context.Background(), app, cfg); err != nil {
		t.Fatalf("SetPush: %v", err)
	}
}

// journaled is what a test compares of a journal entry of the push.
type journaled struct {
	Endpoint, Path, Reason string
	Code, Status           int
	Params                 []store.Param
	Push                   *store.PushAttempt
}

// journal returns app's entries, oldest first.
func journal(t *testing.T, s *mockserver.Server, app string) []journaled {
	t.Helper()
	es, err := s.Store().Journal(context.Background(), store.Query{App: app})
	if err != nil {
		t.Fatal(err)
	}
	out := []journaled{}
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		if e.Push != nil && e.Push.Attempt > 0 { // the request's query is random: checked here, compared apart
			if r := e.Push.Request; r == nil || !strings.Contains(r.Body, strconv.FormatInt(e.Push.MsgID, 10)) || !strings.Contains(r.URL, "signature=") {
				t.Errorf("attempt %s: request %+v, want the signed request carrying its MsgId", e.ID, r)
			}
			p := *e.Push
			p.Request = nil
			e.Push = &p
		}
		out = append(out, journaled{e.Endpoint, e.Path, e.Reason, e.Code, e.Status, e.Params, e.Push})
	}
	return out
}

func TestUserWrites_Outcomes(t *testing.T) {
	t.Parallel()
	hi := []mockserver.UserMessage{{MsgType: baidupush.MsgTypeText, Content: "hi"}}
	text := func(v string) []store.Param {
		return []store.Param{{Name: "msg_type", Value: "text", Source: "push", Used: true}, {Name: "content", Value: v, Source: "push", Used: true}}
	}
	const id1 = mockserver.MsgIDBase + 1
	pushing := "the user wrote: window open; pushing to "
	tests := []struct {
		name        string
		bot         *scriptedBot // nil: no push configuration
		retries     int
		in          mockserver.UserWrite
		wantOutcome string
		wantSummary string
		wantJournal []journaled
	}{
		{
			name: "NoMessage_WindowOnlyNothingJournaled", in: mockserver.UserWrite{App: "1001", OpenID: "u1"},
			wantOutcome: mockserver.OutcomeNoMessage, wantSummary: "window open; no message, nothing was pushed",
			wantJournal: []journaled{},
		},
		{
			name: "NoPushConfiguration_MessageJournaledNotPushed", in: mockserver.UserWrite{App: "1001", OpenID: "u1", Messages: hi},
			wantOutcome: mockserver.OutcomeNoPush, wantSummary: "window open; the app has no push configuration, nothing was pushed",
			wantJournal: []journaled{{Endpoint: store.EndpointUserMessage, Reason: "the user wrote: window open (no push configuration: nothing pushed)",
				Params: text("hi"), Push: &store.PushAttempt{}}},
		},
		{
			name: "BotAcknowledges_DeliveredFirstAttempt", bot: &scriptedBot{}, retries: 2,
			in:          mockserver.UserWrite{App: "1001", OpenID: "u1", Messages: hi},
			wantOutcome: "delivered", wantSummary: "window open; MsgId 1000000000000001 delivered after 1 attempt",
			wantJournal: []journaled{
				{Endpoint: store.EndpointUserMessage, Reason: pushing, Params: text("hi"), Push: &store.PushAttempt{MsgID: id1}},
				{Endpoint: store.EndpointPush, Path: "/hook", Reason: "attempt 1 of 3: acknowledged", Status: 200, Params: text("hi"),
					Push: &store.PushAttempt{MsgID: id1, Attempt: 1, Attempts: 3, Mode: "plain", Answer: "success", Delivery: 1, Verdict: "acknowledged"}},
			},
		},
		{
			name: "BotBusyOnce_DeliveredOnSecondAttempt", bot: &scriptedBot{failFirst: 1}, retries: 2,
			in:          mockserver.UserWrite{App: "1001", OpenID: "u1", Messages: hi},
			wantOutcome: "delivered", wantSummary: "window open; MsgId 1000000000000001 delivered after 2 attempts",
			wantJournal: []journaled{
				{Endpoint: store.EndpointUserMessage, Reason: pushing, Params: text("hi"), Push: &store.PushAttempt{MsgID: id1}},
				{Endpoint: store.EndpointPush, Path: "/hook", Code: 1, Status: 503, Params: text("hi"),
					Reason: "attempt 1 of 3: HTTP 503 Service Unavailable; want 2xx with body success or empty",
					Push:   &store.PushAttempt{MsgID: id1, Attempt: 1, Attempts: 3, Mode: "plain", Answer: "busy\n", Delivery: 1, Verdict: "refused"}},
				{Endpoint: store.EndpointPush, Path: "/hook", Reason: "attempt 2 of 3: acknowledged", Status: 200, Params: text("hi"),
					Push: &store.PushAttempt{MsgID: id1, Attempt: 2, Attempts: 3, Mode: "plain", Answer: "success", Delivery: 1, Verdict: "acknowledged"}},
			},
		},
		{
			name: "BotRefuses_FailedWithoutRetries", bot: &scriptedBot{refuse: true}, retries: 0,
			in:          mockserver.UserWrite{App: "1001", OpenID: "u1", Messages: hi},
			wantOutcome: "failed",
			wantSummary: "window open; MsgId 1000000000000001 not delivered (failed): none of 1 attempts acknowledged; last: HTTP 403 Forbidden; want 2xx with body success or empty",
			wantJournal: []journaled{
				{Endpoint: store.EndpointUserMessage, Reason: pushing, Params: text("hi"), Push: &store.PushAttempt{MsgID: id1}},
				{Endpoint: store.EndpointPush, Path: "/hook", Code: 1, Status: 403, Params: text("hi"),
					Reason: "attempt 1 of 1: HTTP 403 Forbidden; want 2xx with body success or empty",
					Push:   &store.PushAttempt{MsgID: id1, Attempt: 1, Attempts: 1, Mode: "plain", Answer: "no\n", Delivery: 1, Verdict: "refused"}},
			},
		},
		{
			name: "DuplicateFault_SameMsgIdTwiceWithItsFault", bot: &scriptedBot{}, retries: 2,
			in: mockserver.UserWrite{App: "1001", OpenID: "u1", Messages: []mockserver.UserMessage{{MsgType: baidupush.MsgTypeImage, PicURL: "https://example.com/a.png"}},
				Faults: []config.PushFault{{Kind: config.PushFaultDuplicate}}},
			wantOutcome: "delivered", wantSummary: "window open; MsgId 1000000000000001 delivered after 1 attempt",
			wantJournal: func() []journaled {
				img := []store.Param{{Name: "msg_type", Value: "image", Source: "push", Used: true}, {Name: "pic_url", Value: "https://example.com/a.png", Source: "push", Used: true}}
				return []journaled{
					{Endpoint: store.EndpointUserMessage, Reason: pushing, Params: img, Push: &store.PushAttempt{MsgID: id1}},
					{Endpoint: store.EndpointPush, Path: "/hook", Reason: "attempt 1 of 3: acknowledged", Status: 200, Params: img,
						Push: &store.PushAttempt{MsgID: id1, Attempt: 1, Attempts: 3, Mode: "plain", Answer: "success", Faults: []string{"duplicate"}, Delivery: 1, Verdict: "acknowledged"}},
					{Endpoint: store.EndpointPush, Path: "/hook", Reason: "duplicate delivery (same MsgId): acknowledged", Status: 200, Params: img,
						Push: &store.PushAttempt{MsgID: id1, Attempt: 2, Attempts: 3, Mode: "plain", Duplicate: true, Answer: "success", Faults: []string{"duplicate"}, Delivery: 1, Verdict: "acknowledged"}},
				}
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newUserWritesServer(t, nil)
			if tt.bot != nil {
				pushTo(t, s, "1001", tt.bot, tt.retries)
			}
			got, err := s.UserWrites(context.Background(), tt.in)
			if err != nil {
				t.Fatalf("UserWrites: %v", err)
			}
			if got.Outcome != tt.wantOutcome || got.Summary != tt.wantSummary {
				t.Errorf("UserWrites() = %q, %q; want %q, %q", got.Outcome, got.Summary, tt.wantOutcome, tt.wantSummary)
			}
			wantWindow := &store.Window{OpenID: "u1", OpenedAt: userWritesAt, UserMessage: true}
			if diff := cmp.Diff(wantWindow, got.Window); diff != "" || !got.CreateTime.Equal(userWritesAt) {
				t.Errorf("UserWrites() window (-want +got):\n%s\ncreate time %v, want %v", diff, got.CreateTime, userWritesAt)
			}
			if tt.bot != nil && len(got.Results) != len(tt.in.Messages) {
				t.Errorf("UserWrites() results %d; want one per message (%d)", len(got.Results), len(tt.in.Messages))
			}
			// The push entries' Reason ends with the bot's URL: compare its start.
			gotJournal := journal(t, s, "1001")
			for i := range gotJournal {
				if i < len(tt.wantJournal) && tt.wantJournal[i].Reason == pushing && len(gotJournal[i].Reason) > len(pushing) {
					gotJournal[i].Reason = gotJournal[i].Reason[:len(pushing)]
				}
			}
			if diff := cmp.Diff(tt.wantJournal, gotJournal); diff != "" {
				t.Errorf("journal after UserWrites (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUserWrites_Refused: an input the core refuses is an *Error with its code (a message's
// problem a *MessageError naming the message), and opens no window.
func TestUserWrites_Refused(t *testing.T) {
	t.Parallel()
	text := func(c string) mockserver.UserMessage {
		return mockserver.UserMessage{MsgType: baidupush.MsgTypeText, Content: c}
	}
	tests := []struct {
		name        string
		noPusher    bool
		in          mockserver.UserWrite
		wantCode    mockserver.ErrorCode
		wantMessage string
		wantMsgErr  *mockserver.MessageError
	}{
		{name: "UnknownApp_NotFound", in: mockserver.UserWrite{App: "nope", OpenID: "u1"},
			wantCode: mockserver.ErrNotFound, wantMessage: `unknown app "nope"`},
		{name: "EmptyOpenID_Invalid", in: mockserver.UserWrite{App: "1001"},
			wantCode: mockserver.ErrInvalid, wantMessage: "open_id: empty"},
		{name: "TextWithoutContent_MessageError", in: mockserver.UserWrite{App: "1001", OpenID: "u1", Messages: []mockserver.UserMessage{{MsgType: "text"}}},
			wantCode: mockserver.ErrInvalid, wantMessage: "messages[0].content: required in a text message",
			wantMsgErr: &mockserver.MessageError{Index: 0, Field: "content", Reason: "required in a text message"}},
		{name: "SecondMessageVoice_MessageErrorNamesIt", in: mockserver.UserWrite{App: "1001", OpenID: "u1", Messages: []mockserver.UserMessage{text("a"), {MsgType: "voice"}}},
			wantCode: mockserver.ErrInvalid, wantMessage: `messages[1].msg_type: "voice"; want "text" or "image"`,
			wantMsgErr: &mockserver.MessageError{Index: 1, Field: "msg_type", Reason: `"voice"; want "text" or "image"`}},
		{name: "ImageWithContent_MessageError", in: mockserver.UserWrite{App: "1001", OpenID: "u1", Messages: []mockserver.UserMessage{{MsgType: "image", PicURL: "https://x/a.png", Content: "x"}}},
			wantCode: mockserver.ErrInvalid, wantMessage: "messages[0].content: only in a text message",
			wantMsgErr: &mockserver.MessageError{Index: 0, Field: "content", Reason: "only in a text message"}},
		{name: "UnknownFault_Invalid", in: mockserver.UserWrite{App: "1001", OpenID: "u1", Messages: []mockserver.UserMessage{text("a")}, Faults: []config.PushFault{{Kind: "drop"}}},
			wantCode: mockserver.ErrInvalid, wantMessage: `faults[0].kind: "drop" is not a push fault (want duplicate, delay, wrong_signature, out_of_order)`},
		{name: "PushConfiguredOnAStoreWithoutPusher_Unsupported", noPusher: true, in: mockserver.UserWrite{App: "1002", OpenID: "u1", Messages: []mockserver.UserMessage{text("a")}},
			wantCode: mockserver.ErrUnsupported, wantMessage: "the store (mockserver_test.noPusher) keeps no MsgId counter (store.Pusher)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var st store.Store
			if tt.noPusher {
				st = noPusher{memstore.New(100)}
			}
			s := newUserWritesServer(t, st)
			_, err := s.UserWrites(context.Background(), tt.in)
			if got := mockserver.ErrorCodeOf(err); got != tt.wantCode || err == nil || err.Error() != tt.wantMessage {
				t.Fatalf("UserWrites() error %v (code %q); want %q (code %q)", err, got, tt.wantMessage, tt.wantCode)
			}
			var me *mockserver.MessageError
			errors.As(err, &me)
			if diff := cmp.Diff(tt.wantMsgErr, me); diff != "" {
				t.Errorf("UserWrites() *MessageError (-want +got):\n%s", diff)
			}
			for _, app := range []string{"1001", "1002"} {
				if ws, _ := s.Store().Windows(context.Background(), app); len(ws) != 0 {
					t.Errorf("windows of %s after a refusal: %+v; want none", app, ws)
				}
			}
		})
	}
}

// TestSetPush: a configuration is stored only when the bot echoes the handshake; AppPush then
// reads it back with its source, over the file's.
func TestSetPush(t *testing.T) {
	t.Parallel()
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.URL.Query().Get(baidupush.ParamEchoStr))
	})
	notFound := http.NotFoundHandler()
	tests := []struct {
		name       string
		app        string
		bot        http.Handler
		token      string
		noPusher   bool
		wantCode   mockserver.ErrorCode
		wantSource string // of AppPush after the call
	}{
		{name: "BotEchoes_StoredAsAdmin", app: "1001", bot: echo, token: "t", wantSource: mockserver.PushSourceAdmin},
		{name: "BotEchoes_OverTheFilesConfiguration", app: "1002", bot: echo, token: "t", wantSource: mockserver.PushSourceAdmin},
		{name: "BotDoesNotEcho_RefusedNothingStored", app: "1001", bot: notFound, token: "t", wantCode: mockserver.ErrRefused},
		{name: "FileConfigurationStays_WhenRefused", app: "1002", bot: notFound, token: "t", wantCode: mockserver.ErrRefused, wantSource: mockserver.PushSourceConfig},
		{name: "NoToken_Invalid", app: "1001", bot: echo, wantCode: mockserver.ErrInvalid},
		{name: "UnknownApp_NotFound", app: "nope", bot: echo, token: "t", wantCode: mockserver.ErrNotFound},
		{name: "StoreWithoutPusher_Unsupported", app: "1001", bot: echo, token: "t", noPusher: true, wantCode: mockserver.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var st store.Store
			if tt.noPusher {
				st = noPusher{memstore.New(100)}
			}
			s := newUserWritesServer(t, st)
			bot := httptest.NewServer(tt.bot)
			defer bot.Close()
			in := config.Push{Config: baidupush.Config{URL: bot.URL + "/", Token: tt.token}}
			got, err := s.SetPush(context.Background(), tt.app, in)
			if code := mockserver.ErrorCodeOf(err); code != tt.wantCode {
				t.Fatalf("SetPush() error %v (code %q); want code %q", err, code, tt.wantCode)
			}
			var he *baidupush.HandshakeError
			if (tt.wantCode == mockserver.ErrRefused) != errors.As(err, &he) {
				t.Errorf("SetPush() error %v: a refusal, and only a refusal, wraps the *baidupush.HandshakeError", err)
			}
			if err == nil {
				clientID := map[string]string{"1001": "key-a", "1002": "key-b"}[tt.app]
				if diff := cmp.Diff(in.Config.WithDefaults(clientID), got.Config); diff != "" {
					t.Errorf("SetPush() configuration in force (-want +got):\n%s", diff)
				}
			}
			if tt.wantCode == mockserver.ErrNotFound || tt.noPusher {
				return
			}
			c, src, err := s.AppPush(context.Background(), tt.app)
			if err != nil {
				t.Fatal(err)
			}
			if src != tt.wantSource || (c == nil) != (tt.wantSource == "") {
				t.Errorf("AppPush() = %v, %q; want source %q", c, src, tt.wantSource)
			}
			if src == mockserver.PushSourceAdmin && c.URL != in.URL {
				t.Errorf("AppPush() URL %q; want the one set, %q", c.URL, in.URL)
			}
		})
	}
}

// TestAppPush_SwitchedOff: an empty stored configuration hides the file's.
func TestAppPush_SwitchedOff(t *testing.T) {
	t.Parallel()
	s := newUserWritesServer(t, nil)
	ctx := context.Background()
	if c, src, err := s.AppPush(ctx, "1002"); err != nil || c == nil || src != mockserver.PushSourceConfig || c.Token != "file-token" {
		t.Fatalf("AppPush(1002) = %+v, %q, %v; want the file's", c, src, err)
	}
	if err := s.Store().(store.Pusher).PutPush(ctx, "1002", []byte{}); err != nil {
		t.Fatal(err)
	}
	if c, src, err := s.AppPush(ctx, "1002"); err != nil || c != nil || src != "" {
		t.Errorf("AppPush(1002) after switching off = %+v, %q, %v; want none", c, src, err)
	}
}
