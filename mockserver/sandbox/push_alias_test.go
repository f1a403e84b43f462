package sandbox

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/store"
)

// userWroteResult is what "the user wrote" leaves behind, as a test compares it across routes:
// the user's window, the journal entries of the push (bot URL replaced by "BOT") and what the bot
// acknowledged.
type userWroteResult struct {
	Status  int
	Error   string
	Window  *admin.WindowView
	Journal []journalOfPush
	Bot     []string
}

type journalOfPush struct {
	Endpoint, Path, Reason string
	Code, Status           int
	Params                 []store.Param
	Push                   *store.PushAttempt
}

// wroteVia sets up a fresh fake (with a bot when push is set), has user u1 of app 1001 write
// through the route of path with body, and returns what that left behind.
func wroteVia(t *testing.T, push bool, path, body string) userWroteResult {
	t.Helper()
	f := setup(t, "")
	var bot *testBot
	if push {
		bot = newTestBot(t, baidupush.Config{Token: botToken, Format: baidupush.FormatJSON})
		if s := f.admin(http.MethodPut, "/__admin/apps/1001/push", pushBody(bot.URL, "plain", "json", ""), nil); s != http.StatusOK {
			t.Fatalf("PUT push = %d", s)
		}
	}
	var res userWroteResult
	var out admin.ErrorBody
	res.Status = f.admin(http.MethodPost, path, body, &out)
	res.Error = out.Error
	var app admin.AppView
	if s := f.admin(http.MethodGet, "/__admin/apps/1001", "", &app); s != http.StatusOK {
		t.Fatalf("GET app = %d", s)
	}
	for _, w := range app.Windows {
		if w.OpenID == "u1" {
			res.Window = &w
		}
	}
	es := f.journal(store.Query{App: "1001", OpenID: "u1"})
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		reason := e.Reason
		if bot != nil {
			reason = strings.ReplaceAll(reason, bot.URL, "BOT")
		}
		if e.Push != nil && e.Push.Request != nil { // its query holds a random nonce: compare the rest
			p, r := *e.Push, *e.Push.Request
			r.URL, _, _ = strings.Cut(strings.ReplaceAll(r.URL, bot.URL, "BOT"), "?")
			p.Request = &r
			e.Push = &p
		}
		res.Journal = append(res.Journal, journalOfPush{e.Endpoint, e.Path, reason, e.Code, e.Status, e.Params, e.Push})
	}
	if bot != nil {
		res.Bot = bot.received()
	}
	return res
}

// TestUserWrites_AliasRoute_SameResult: POST /__admin/apps/{app}/messages with {"open_id"} and
// the canonical body's fields does what POST /__admin/apps/{app}/users/{open_id}/messages does:
// the same window, journal entries, pushes and refusals.
func TestUserWrites_AliasRoute_SameResult(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		push       bool
		body       string // the canonical body; the alias's adds "open_id"
		wantStatus int
	}{
		{"NoPushConfiguration_WindowAndMessage", false, `{"msg_type":"text","content":"hi"}`, http.StatusOK},
		{"Pushed_Delivered", true, `{"msg_type":"text","content":"hi"}`, http.StatusOK},
		{"PushedTwoWithDuplicate_Delivered", true, `{"msg_type":"image","pic_url":"https://example.com/a.png","more":[{"msg_type":"text","content":"b"}],"faults":[{"kind":"duplicate"}]}`, http.StatusOK},
		{"TextWithoutContent_400", true, `{"msg_type":"text"}`, http.StatusBadRequest},
		{"SecondMessageUnknownType_400", false, `{"msg_type":"text","content":"a","more":[{"msg_type":"voice"}]}`, http.StatusBadRequest},
		{"UnknownFault_400", false, `{"msg_type":"text","content":"a","faults":[{"kind":"drop"}]}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			canonical := wroteVia(t, tt.push, "/__admin/apps/1001/users/u1/messages", tt.body)
			alias := wroteVia(t, tt.push, "/__admin/apps/1001/messages", `{"open_id":"u1",`+tt.body[1:])
			if canonical.Status != tt.wantStatus {
				t.Fatalf("canonical route = %d (%s); want %d", canonical.Status, canonical.Error, tt.wantStatus)
			}
			if diff := cmp.Diff(canonical, alias); diff != "" {
				t.Errorf("alias route's result differs from the canonical route's (-canonical +alias):\n%s", diff)
			}
			if tt.wantStatus == http.StatusOK && (canonical.Window == nil || len(canonical.Journal) == 0) {
				t.Errorf("canonical route left window %+v and journal %+v; want both", canonical.Window, canonical.Journal)
			}
		})
	}
}

// TestUserWrites_AliasWithoutMessage_WindowOnly: the alias's original body, {"open_id"}, opens
// the window and does nothing else, even with a push configuration: no journal entry, no push.
func TestUserWrites_AliasWithoutMessage_WindowOnly(t *testing.T) {
	t.Parallel()
	got := wroteVia(t, true, "/__admin/apps/1001/messages", `{"open_id":"u1"}`)
	if got.Status != http.StatusOK || got.Window == nil || !got.Window.Open || got.Window.RepliesLeft != 5 {
		t.Fatalf("alias = %d (%s), window %+v; want 200 and an open window with 5 replies", got.Status, got.Error, got.Window)
	}
	if len(got.Journal) != 0 || len(got.Bot) != 0 {
		t.Errorf("alias without a message journaled %+v and pushed %v; want nothing", got.Journal, got.Bot)
	}
}
