package sandbox

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/store"
)

const (
	botToken = "bot-token"
	botKey   = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// testBot is a bot on loopback: it echoes the handshake, opens pushes with baidupush.Open (the
// configuration it was told), fails the first failFirst attempts with a 503, and records what it
// acknowledged.
type testBot struct {
	URL string

	mu        sync.Mutex
	cfg       baidupush.Config
	failFirst int
	echo      func(echo string) string // nil: echo as sent
	calls     int
	got       []baidupush.Message
}

func newTestBot(t *testing.T, cfg baidupush.Config) *testBot {
	t.Helper()
	b := &testBot{cfg: cfg}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		defer b.mu.Unlock()
		if e := r.URL.Query().Get(baidupush.ParamEchoStr); e != "" {
			if b.echo != nil {
				e = b.echo(e)
			}
			_, _ = io.WriteString(w, e)
			return
		}
		b.calls++
		if b.calls <= b.failFirst {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		o, err := baidupush.Open(b.cfg, r.URL.Query(), body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		b.got = append(b.got, o.Message)
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(srv.Close)
	b.URL = srv.URL
	return b
}

func (b *testBot) received() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.got {
		out = append(out, fmt.Sprintf("%s %s%s", m.FromUserName, m.Content, m.PicURL))
	}
	return out
}

// pushBody is the JSON of a push configuration for the bot.
func pushBody(url, mode, format, extra string) string {
	return fmt.Sprintf(`{"url":%q,"token":%q,"encoding_aes_key":%q,"mode":%q,"format":%q%s}`, url, botToken, botKey, mode, format, extra)
}

func TestPushConfig_SavedOnlyAfterTheHandshake(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		for _, tc := range []struct {
			name       string
			echo       func(string) string
			body       func(url string) string
			wantStatus int
			wantErr    string // part of the error
		}{
			{"HandshakeEchoed_Saved", nil, func(u string) string { return pushBody(u, "secure", "json", "") }, http.StatusOK, ""},
			{"EchoWithNewline_Refused", func(e string) string { return e + "\n" }, func(u string) string { return pushBody(u, "plain", "xml", "") },
				http.StatusUnprocessableEntity, "handshake refused, configuration not saved"},
			{"ShortKey_BadRequest", nil, func(u string) string {
				return fmt.Sprintf(`{"url":%q,"token":"t","mode":"secure","encoding_aes_key":"short"}`, u)
			}, http.StatusBadRequest, "push.encoding_aes_key"},
			{"UnknownField_BadRequest", nil, func(u string) string { return pushBody(u, "plain", "xml", `,"tokne":"x"`) },
				http.StatusBadRequest, `unknown field "tokne"`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				f := k.setup(t, "")
				bot := newTestBot(t, baidupush.Config{})
				bot.echo = tc.echo
				var out map[string]any
				status := f.admin(http.MethodPut, "/__admin/apps/1001/push", tc.body(bot.URL), &out)
				if status != tc.wantStatus {
					t.Fatalf("PUT push = %d %v; want %d", status, out, tc.wantStatus)
				}
				getStatus := f.admin(http.MethodGet, "/__admin/apps/1001/push", "", nil)
				if tc.wantErr != "" {
					if msg, _ := out["error"].(string); !strings.Contains(msg, tc.wantErr) {
						t.Errorf("error %q does not contain %q", msg, tc.wantErr)
					}
					if getStatus != http.StatusNotFound {
						t.Errorf("GET push after a refusal = %d; want 404 (nothing saved)", getStatus)
					}
					return
				}
				var view admin.PushView
				f.admin(http.MethodGet, "/__admin/apps/1001/push", "", &view)
				want := admin.PushView{App: "1001", Source: admin.PushFromAdmin}
				got := admin.PushView{App: view.App, Source: view.Source}
				if diff := cmp.Diff(want, got); diff != "" || view.Push.Token != admin.Redacted || view.Push.EncodingAESKey != admin.Redacted || view.Push.ClientID != "key-a" {
					t.Errorf("GET push mismatch (-want +got):\n%s\ntoken %q key %q client_id %q", diff, view.Push.Token, view.Push.EncodingAESKey, view.Push.ClientID)
				}
				if s := f.admin(http.MethodDelete, "/__admin/apps/1001/push", "", nil); s != http.StatusOK {
					t.Errorf("DELETE push = %d", s)
				}
				if s := f.admin(http.MethodGet, "/__admin/apps/1001/push", "", nil); s != http.StatusNotFound {
					t.Errorf("GET push after DELETE = %d; want 404", s)
				}
			})
		}
	})
}

func TestUserWrites_PushOutcomes(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		for _, tc := range []struct {
			name         string
			mode, format string
			extra        string // more settings of the push configuration
			failFirst    int
			body         string
			wantOutcome  string
			wantAttempts []string // per attempt: "status acked"
			wantBot      []string
		}{
			{"PlainJSON_DeliveredFirstAttempt", "plain", "json", "", 0, `{"msg_type":"text","content":"hi"}`,
				"delivered", []string{"200 true"}, []string{"u1 hi"}},
			{"SecureXML_Image_Delivered", "secure", "xml", "", 0, `{"msg_type":"image","pic_url":"https://example.com/a.png"}`,
				"delivered", []string{"200 true"}, []string{"u1 https://example.com/a.png"}},
			{"Compatible_Delivered", "compatible", "json", "", 0, `{"msg_type":"text","content":"both"}`,
				"delivered", []string{"200 true"}, []string{"u1 both"}},
			{"BotFailsTwice_DeliveredOnThirdAttempt", "plain", "xml", "", 2, `{"msg_type":"text","content":"again"}`,
				"delivered", []string{"503 false", "503 false", "200 true"}, []string{"u1 again"}},
			{"BotAlwaysFails_FailedAfterRetries", "plain", "json", `,"retries":1`, 9, `{"msg_type":"text","content":"lost"}`,
				"failed", []string{"503 false", "503 false"}, nil},
			{"FaultDuplicate_SameMsgIdTwice", "secure", "json", "", 0, `{"msg_type":"text","content":"dup","faults":[{"kind":"duplicate"}]}`,
				"delivered", []string{"200 true", "200 true"}, []string{"u1 dup", "u1 dup"}},
			{"FaultWrongSignature_BotRefuses", "plain", "json", `,"retries":0`, 0, `{"msg_type":"text","content":"forged","faults":[{"kind":"wrong_signature"}]}`,
				"failed", []string{"403 false"}, nil},
			{"FaultDelay_StillDelivered", "plain", "json", `,"faults":[{"kind":"delay","delay":"20ms"}]`, 0, `{"msg_type":"text","content":"late"}`,
				"delivered", []string{"200 true"}, []string{"u1 late"}},
			{"FaultOutOfOrder_SecondArrivesFirst", "plain", "json", "", 0, `{"msg_type":"text","content":"first","more":[{"msg_type":"text","content":"second"}],"faults":[{"kind":"out_of_order"}]}`,
				"delivered", []string{"200 true", "200 true"}, []string{"u1 second", "u1 first"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				f := k.setup(t, "")
				bot := newTestBot(t, baidupush.Config{Token: botToken, EncodingAESKey: botKey, Mode: baidupush.Mode(tc.mode), Format: baidupush.Format(tc.format), ClientID: "key-a"})
				if s := f.admin(http.MethodPut, "/__admin/apps/1001/push", pushBody(bot.URL, tc.mode, tc.format, tc.extra), nil); s != http.StatusOK {
					t.Fatalf("PUT push = %d", s)
				}
				bot.mu.Lock()
				bot.failFirst = tc.failFirst
				bot.mu.Unlock()
				var ans admin.UserWroteAnswer
				if s := f.admin(http.MethodPost, "/__admin/apps/1001/users/u1/messages", tc.body, &ans); s != http.StatusOK {
					t.Fatalf("user writes = %d %+v", s, ans)
				}
				if ans.Outcome != tc.wantOutcome {
					t.Errorf("outcome %q (%s); want %q", ans.Outcome, ans.Summary, tc.wantOutcome)
				}
				if ans.Window == nil || !ans.Window.Open || ans.Window.Replies != 0 {
					t.Errorf("window after the message = %+v; want open with no replies", ans.Window)
				}
				// The journal holds every attempt, newest first: reverse it.
				es := f.journal(store.Query{App: "1001", Endpoint: store.EndpointPush})
				var got []string
				for i := len(es) - 1; i >= 0; i-- {
					got = append(got, fmt.Sprintf("%d %v", es[i].Status, es[i].Code == 0))
				}
				if diff := cmp.Diff(tc.wantAttempts, got); diff != "" {
					t.Errorf("journaled attempts mismatch (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tc.wantBot, bot.received()); diff != "" {
					t.Errorf("messages the bot acknowledged mismatch (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestUserWrites_NoPush_OpensWindowOnly(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		f := k.setup(t, "")
		var ans admin.UserWroteAnswer
		if s := f.admin(http.MethodPost, "/__admin/apps/1001/users/u9/messages", `{"msg_type":"text","content":"hello"}`, &ans); s != http.StatusOK {
			t.Fatalf("user writes = %d", s)
		}
		if ans.Outcome != admin.OutcomeNoPush || ans.Window == nil || !ans.Window.Open || len(ans.Results) != 0 {
			t.Errorf("answer = %+v; want no_push, an open window, no results", ans)
		}
		if es := f.journal(store.Query{App: "1001", Endpoint: store.EndpointUserMessage}); len(es) != 1 || es[0].OpenID != "u9" {
			t.Errorf("user_message entries = %+v; want one for u9", es)
		}
	})
}

func TestUserWrites_BadInput_400(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body, want string }{
		{"TextWithoutContent", `{"msg_type":"text"}`, "content: required"},
		{"UnknownType", `{"msg_type":"voice","content":"x"}`, `msg_type: "voice"`},
		{"ImageWithContent", `{"msg_type":"image","pic_url":"https://x/a.png","content":"x"}`, "content: only in a text message"},
		{"UnknownFault", `{"msg_type":"text","content":"x","faults":[{"kind":"drop"}]}`, `"drop" is not a push fault`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, "")
			var out admin.ErrorBody
			if s := f.admin(http.MethodPost, "/__admin/apps/1001/users/u1/messages", tc.body, &out); s != http.StatusBadRequest || !strings.Contains(out.Error, tc.want) {
				t.Errorf("= %d %q; want 400 containing %q", s, out.Error, tc.want)
			}
		})
	}
}

// TestWindow_OpenedByAPushedMessage: under require_user_message, a reply before the user writes
// answers 90001, and a reply after the user wrote (a pushed message) answers 0.
func TestWindow_OpenedByAPushedMessage(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		f := k.setup(t, "")
		bot := newTestBot(t, baidupush.Config{Token: botToken, Format: baidupush.FormatJSON})
		if s := f.admin(http.MethodPut, "/__admin/apps/1001/push", pushBody(bot.URL, "plain", "json", ""), nil); s != http.StatusOK {
			t.Fatalf("PUT push = %d", s)
		}
		for _, tc := range []struct {
			name     string
			write    bool
			wantCode int
		}{
			{"BeforeTheUserWrites_90001", false, 90001},
			{"AfterThePushedMessage_0", true, 0},
		} {
			if tc.write {
				var ans admin.UserWroteAnswer
				f.admin(http.MethodPost, "/__admin/apps/1001/users/new-user/messages", `{"msg_type":"text","content":"hi"}`, &ans)
				if ans.Outcome != "delivered" {
					t.Fatalf("%s: push %s: %s", tc.name, ans.Outcome, ans.Summary)
				}
			}
			if got := f.sendForm("static-token-a", text("new-user", "reply")).outcome(t); got.Code != tc.wantCode {
				t.Errorf("%s: reply answered %+v; want code %d", tc.name, got, tc.wantCode)
			}
		}
	})
}

func TestPush_JournalFilterAndMetrics(t *testing.T) {
	t.Parallel()
	f := setup(t, "")
	bot := newTestBot(t, baidupush.Config{Token: botToken, Format: baidupush.FormatXML})
	f.admin(http.MethodPut, "/__admin/apps/1001/push", pushBody(bot.URL, "plain", "xml", ""), nil)
	bot.mu.Lock()
	bot.failFirst = 1
	bot.mu.Unlock()
	f.admin(http.MethodPost, "/__admin/apps/1001/users/u1/messages", `{"msg_type":"text","content":"hi"}`, nil)
	f.sendForm("static-token-a", text("u1", "reply"))

	var rs admin.Requests
	if s := f.admin(http.MethodGet, "/__admin/requests?endpoint=push", "", &rs); s != http.StatusOK {
		t.Fatalf("GET requests?endpoint=push = %d", s)
	}
	var got []string
	for _, e := range rs.Requests {
		got = append(got, fmt.Sprintf("%s %d %s", e.Endpoint, e.Status, e.Reason))
	}
	want := []string{"push 200 attempt 2 of 3: acknowledged",
		`push 503 attempt 1 of 3: HTTP 503 Service Unavailable; want 2xx with body success or empty`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("push entries mismatch (-want +got):\n%s", diff)
	}
	for _, e := range rs.Requests {
		if e.LatencyMicros <= 0 {
			t.Errorf("entry %s has latency %dµs; want the attempt's time", e.ID, e.LatencyMicros)
		}
	}
	mfs, err := f.srv.Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	gotCounts := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "smartappmock_push_attempts_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			gotCounts[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	if diff := cmp.Diff(map[string]float64{"acked": 1, "rejected": 1, "no_answer": 0}, gotCounts); diff != "" {
		t.Errorf("smartappmock_push_attempts_total by outcome mismatch (-want +got):\n%s", diff)
	}
}

// TestPush_FromTheConfigFile: apps[].push is used as it is (no handshake at start), shown by
// GET with source config and its secrets hidden (also in GET /__admin/config), and DELETE
// switches it off.
func TestPush_FromTheConfigFile(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		bot := newTestBot(t, baidupush.Config{Token: botToken, Format: baidupush.FormatJSON})
		f := k.setup(t, configtest.Strict+`    push:
      url: `+bot.URL+`
      token: `+botToken+`
      encoding_aes_key: `+botKey+`
      format: json
`)
		var view admin.PushView
		if s := f.admin(http.MethodGet, "/__admin/apps/1003/push", "", &view); s != http.StatusOK || view.Source != admin.PushFromConfig {
			t.Fatalf("GET push = %d %+v; want the configured push", s, view)
		}
		var cfg struct {
			Apps []struct {
				ID   string         `json:"id"`
				Push map[string]any `json:"push"`
			} `json:"apps"`
		}
		f.admin(http.MethodGet, "/__admin/config", "", &cfg)
		for _, a := range cfg.Apps {
			if a.ID == "1003" && (a.Push["token"] != admin.Redacted || a.Push["encoding_aes_key"] != admin.Redacted) {
				t.Errorf("GET /__admin/config shows push %v; want token and key redacted", a.Push)
			}
		}
		for _, tc := range []struct {
			name        string
			deleteFirst bool
			wantOutcome string
		}{
			{"Configured_Delivered", false, "delivered"},
			{"AfterDelete_NoPush", true, admin.OutcomeNoPush},
		} {
			if tc.deleteFirst {
				f.admin(http.MethodDelete, "/__admin/apps/1003/push", "", nil)
			}
			var ans admin.UserWroteAnswer
			f.admin(http.MethodPost, "/__admin/apps/1003/users/u1/messages", `{"msg_type":"text","content":"hi"}`, &ans)
			if ans.Outcome != tc.wantOutcome {
				t.Errorf("%s: outcome %q (%s); want %q", tc.name, ans.Outcome, ans.Summary, tc.wantOutcome)
			}
		}
	})
}

func TestPushRoutes_WrongMethod_405WithAllow(t *testing.T) {
	t.Parallel()
	f := setup(t, "")
	for _, tc := range []struct{ name, method, path, wantAllow string }{
		{"UserMessagesGet", http.MethodGet, "/__admin/apps/1001/users/u1/messages", "POST"},
		{"PushPost", http.MethodPost, "/__admin/apps/1001/push", "GET, PUT, DELETE"},
	} {
		res := f.do(httptest.NewRequest(tc.method, tc.path, nil))
		if res.Status != http.StatusMethodNotAllowed || res.Header.Get("Allow") != tc.wantAllow {
			t.Errorf("%s: %s %s = %d Allow %q; want 405 Allow %q", tc.name, tc.method, tc.path, res.Status, res.Header.Get("Allow"), tc.wantAllow)
		}
	}
}

// TestPushFaultPlans_SkipAndTimes: an app's push fault with skip and times strikes only the
// pushes it names, counted across calls, and a new configuration counts again.
func TestPushFaultPlans_SkipAndTimes(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		f := k.setup(t, "")
		bot := newTestBot(t, baidupush.Config{Token: botToken, Format: baidupush.FormatJSON})
		put := func() {
			t.Helper()
			if s := f.admin(http.MethodPut, "/__admin/apps/1001/push", pushBody(bot.URL, "plain", "json", `,"faults":[{"kind":"duplicate","skip":1,"times":2}]`), nil); s != http.StatusOK {
				t.Fatalf("PUT push = %d", s)
			}
		}
		attempts := func() []int {
			var out []int
			for range 4 {
				var ans admin.UserWroteAnswer
				f.admin(http.MethodPost, "/__admin/apps/1001/users/u1/messages", `{"msg_type":"text","content":"hi"}`, &ans)
				out = append(out, len(ans.Results[0].Attempts))
			}
			return out
		}
		put()
		want := []int{1, 2, 2, 1} // skip one, duplicate two, then none
		if diff := cmp.Diff(want, attempts()); diff != "" {
			t.Errorf("attempts per push mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int{1, 1, 1, 1}, attempts()); diff != "" {
			t.Errorf("after the plan ran out, attempts per push mismatch (-want +got):\n%s", diff)
		}
		put() // the same configuration again: the same period, still spent
		if diff := cmp.Diff([]int{1, 1, 1, 1}, attempts()); diff != "" {
			t.Errorf("after saving the same plan again, mismatch (-want +got):\n%s", diff)
		}
		f.admin(http.MethodPost, "/__admin/apps/1001/reset", "", nil)
		if diff := cmp.Diff(want, attempts()); diff != "" {
			t.Errorf("after an app reset, attempts per push mismatch (-want +got):\n%s", diff)
		}
	})
}
