package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
)

const (
	tpPushToken = "tp-push-token"
	tpPushKey   = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// platformReceiver is a platform's authorization-event URL: it verifies and decrypts each push
// with baidupush.OpenPlatform (trailing id tp-key), records the JSON, and answers "success"
// unless told to fail, or to hold a push until released.
type platformReceiver struct {
	URL string

	mu      sync.Mutex
	fail    bool
	hold    chan struct{} // non-nil: each push waits for it to close
	got     []map[string]any
	refused []string
	bodies  []string // every request's body, as received, before any hold
}

func newPlatformReceiver(t *testing.T) *platformReceiver {
	t.Helper()
	p := &platformReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.bodies = append(p.bodies, string(body))
		hold, fail := p.hold, p.fail
		p.mu.Unlock()
		if hold != nil {
			<-hold
		}
		if fail {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		msg, err := baidupush.OpenPlatform(tpPushToken, tpPushKey, "tp-key", body)
		var m map[string]any
		if err == nil {
			err = json.Unmarshal(msg, &m)
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if err != nil {
			p.refused = append(p.refused, err.Error())
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		p.got = append(p.got, m)
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL + "/"
	return p
}

func (p *platformReceiver) received() []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]map[string]any(nil), p.got...)
}

// tpPushConfig is tpConfig with the platform's push pointed at url.
func tpPushConfig(url, extra string) string {
	return strings.Replace(tpConfig, "  - {key: tp-key, secret: tp-secret, ticket: tp-ticket}\n",
		fmt.Sprintf("  - key: tp-key\n    secret: tp-secret\n    ticket: tp-ticket\n    push: {url: %q, token: %s, encoding_aes_key: %s, retries: 0%s}\n",
			url, tpPushToken, tpPushKey, extra), 1)
}

// platformToken gets a platform token (42.) through the token endpoint.
func (f *fixture) platformToken() string {
	f.t.Helper()
	var tp struct {
		Data struct {
			AccessToken string `json:"access_token"`
		} `json:"data"`
	}
	f.tpGet(smartappmock.TPTokenPath, url.Values{"client_id": {"tp-key"}, "ticket": {"tp-ticket"}}, &tp)
	if tp.Data.AccessToken == "" {
		f.t.Fatal("no platform token")
	}
	return tp.Data.AccessToken
}

func TestPlatformPush_TicketAndAuthorizationEvents(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		rcv := newPlatformReceiver(t)
		f := k.setup(t, tpPushConfig(rcv.URL, ""))
		push := func(body string) admin.PlatformPushAnswer {
			t.Helper()
			var ans admin.PlatformPushAnswer
			if st := f.admin(http.MethodPost, admin.Prefix+"/platforms/tp-key/push", body, &ans); st != http.StatusOK {
				t.Fatalf("push %s: HTTP %d", body, st)
			}
			if ans.Outcome != "delivered" || ans.Status != mockserver.PlatformPushDelivered || len(ans.Result.Attempts) != 1 {
				t.Fatalf("push %s: %+v; want delivered at once", body, ans)
			}
			return ans
		}
		ticket := push(`{"event":"ticket"}`)
		authorized := push(`{"event":"AUTHORIZED","app":"2001"}`)
		push(`{"event":"UNAUTHORIZED","app":"2001"}`)
		push(`{"event":"UPDATE_AUTHORIZED","app":"2001"}`)
		got := rcv.received()
		if len(got) != 4 {
			t.Fatalf("the platform received %d pushes; want 4 (refused: %v)", len(got), rcv.refused)
		}
		if g := got[0]; g["Ticket"] != "tp-ticket" || g["MsgType"] != "ticket" || g["Event"] != "push" || g["FromUserName"] != "SmartAPP" {
			t.Errorf("ticket push = %v", g)
		}
		var tm baidupush.TicketMessage
		mustUnmarshal(t, ticket.Message, &tm)
		if ticket.Content == "" || tm.Ticket != "tp-ticket" || ticket.Event != "ticket" || ticket.ID == 0 {
			t.Errorf("ticket answer = %+v", ticket)
		}
		for i, ev := range []string{"AUTHORIZED", "UNAUTHORIZED", "UPDATE_AUTHORIZED"} {
			g := got[i+1]
			_, eventTimeErr := time.Parse(baidupush.EventTimeLayout, fmt.Sprint(g["eventTime"]))
			if g["event"] != ev || g["appId"] != float64(2001) || g["tpAppId"] == nil || eventTimeErr != nil {
				t.Errorf("%s push = %v", ev, g)
			}
			if _, hasCode := g["authorizationCode"]; hasCode == (ev == "UNAUTHORIZED") {
				t.Errorf("%s push = %v: an authorization code only with AUTHORIZED and UPDATE_AUTHORIZED", ev, g)
			}
		}
		// Each push is journaled pending, then delivered: the admin API lists both.
		var reqs admin.Requests
		if st := f.admin(http.MethodGet, admin.Prefix+"/requests?app=platform:tp-key&endpoint=tp_push&limit=0", "", &reqs); st != http.StatusOK || reqs.Count != 8 {
			t.Errorf("GET requests of the platform's pushes: HTTP %d, %d entries; want 8 (4 pushes, pending and delivered)", st, reqs.Count)
		}
		// The pushed authorization code is a real one: the platform exchanges it for tokens.
		var ev baidupush.AuthorizationEvent
		mustUnmarshal(t, authorized.Message, &ev)
		var tok smartappmock.AuthorizerTokenResponse
		res := f.tpGet(smartappmock.TPOAuthPath, url.Values{"access_token": {f.platformToken()}, "grant_type": {smartappmock.GrantAppToTPCode},
			"code": {ev.AuthorizationCode}}, &tok)
		if res.Status != http.StatusOK || !strings.HasPrefix(tok.AccessToken, "45.") {
			t.Errorf("exchanging the pushed code: HTTP %d %s", res.Status, res.Body)
		}
	})
}

func TestPlatformPush_Refused(t *testing.T) {
	t.Parallel()
	rcv := newPlatformReceiver(t)
	f := setup(t, tpPushConfig(rcv.URL, ""))
	noPush := setup(t, tpConfig)
	for _, tc := range []struct {
		name       string
		f          *fixture
		platform   string
		body       string
		wantStatus int
		want       string
	}{
		{"UnknownEvent_BadRequest", f, "tp-key", `{"event":"REGISTER"}`, http.StatusBadRequest, `event: "REGISTER"; want ticket, AUTHORIZED`},
		{"AuthorizedWithoutApp_BadRequest", f, "tp-key", `{"event":"AUTHORIZED"}`, http.StatusBadRequest, "app: required for AUTHORIZED"},
		{"UnknownApp_NotFound", f, "tp-key", `{"event":"AUTHORIZED","app":"9999"}`, http.StatusNotFound, `unknown app "9999"`},
		{"UnknownPlatform_NotFound", f, "other", `{"event":"ticket"}`, http.StatusNotFound, `unknown platform "other"`},
		{"PlatformWithoutPush_BadRequest", noPush, "tp-key", `{"event":"ticket"}`, http.StatusBadRequest, "has no platforms[].push"},
	} {
		var eb admin.ErrorBody
		if st := tc.f.admin(http.MethodPost, admin.Prefix+"/platforms/"+tc.platform+"/push", tc.body, &eb); st != tc.wantStatus || !strings.Contains(eb.Error, tc.want) {
			t.Errorf("%s: HTTP %d %q; want %d containing %q", tc.name, st, eb.Error, tc.wantStatus, tc.want)
		}
	}
	if got := rcv.received(); len(got) != 0 {
		t.Errorf("the platform received %v; want nothing", got)
	}
}

// getMsg is the answer of pushmsg/getmsg.
type getMsg struct {
	Errno int    `json:"errno"`
	Msg   string `json:"msg"`
	Data  struct {
		Page     int                      `json:"page"`
		PageSize int                      `json:"pageSize"`
		Count    int                      `json:"count"`
		List     []mockserver.PushLogItem `json:"list"`
	} `json:"data"`
}

func TestGetMsg_AnswersFromThePushLog(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		rcv := newPlatformReceiver(t)
		f := k.setup(t, tpPushConfig(rcv.URL, ""))
		token := f.platformToken()
		var ids []int64
		for i, fail := range []bool{false, true, false} {
			rcv.mu.Lock()
			rcv.fail = fail
			rcv.mu.Unlock()
			var ans admin.PlatformPushAnswer
			f.admin(http.MethodPost, admin.Prefix+"/platforms/tp-key/push", `{"event":"ticket"}`, &ans)
			if want := []int{1, 2, 1}[i]; ans.Status != want {
				t.Fatalf("push %d: status %d; want %d", i, ans.Status, want)
			}
			ids = append(ids, ans.ID)
		}
		get := func(q url.Values) getMsg {
			t.Helper()
			q.Set("access_token", token)
			var g getMsg
			if res := f.tpGet(smartappmock.GetMsgPath, q, &g); res.Status != http.StatusOK {
				t.Fatalf("getmsg %v: HTTP %d", q, res.Status)
			}
			return g
		}
		all := get(url.Values{})
		if all.Errno != 0 || all.Data.Count != 3 || len(all.Data.List) != 3 || all.Data.PageSize != 100 {
			t.Fatalf("getmsg = %+v; want the 3 pushes", all)
		}
		for i, it := range all.Data.List { // newest first
			if id, st := ids[2-i], []int{1, 2, 1}[2-i]; it.ID != id || it.Status != st {
				t.Errorf("list[%d] = id %d status %d; want id %d status %d", i, it.ID, it.Status, id, st)
			}
			d, err := baidupush.Decrypt(tpPushKey, it.Content)
			if err != nil || !strings.Contains(string(d.Msg), `"Ticket":"tp-ticket"`) || d.ClientID != "tp-key" {
				t.Errorf("list[%d].content decrypts to %s (trailing id %q), %v", i, d.Msg, d.ClientID, err)
			}
		}
		if g := get(url.Values{"push_type": {"2"}}); g.Data.Count != 1 || g.Data.List[0].ID != ids[1] || g.Data.List[0].Status != 2 {
			t.Errorf("push_type 2 = %+v; want the failed push only", g.Data)
		}
		if g := get(url.Values{"id_list": {fmt.Sprintf("%d,%d", ids[0], ids[2])}, "push_type": {"9"}}); g.Data.Count != 2 {
			t.Errorf("id_list = %+v; want the two pushes named, other filters ignored", g.Data)
		}
		if g := get(url.Values{"offset": {"1"}, "count": {"1"}}); g.Data.Count != 3 || len(g.Data.List) != 1 || g.Data.List[0].ID != ids[1] || g.Data.Page != 1 {
			t.Errorf("offset 1 count 1 = %+v; want page 1 with the second newest", g.Data)
		}
		now := f.srv.Core.Now().Unix() // the server clock
		if g := get(url.Values{"start": {strconv.FormatInt(now-3*86400, 10)}, "end": {strconv.FormatInt(now-2*86400, 10)}}); g.Data.Count != 0 {
			t.Errorf("a range before the pushes = %+v; want none", g.Data)
		}
		for name, q := range map[string]url.Values{
			"StartOverAMonthBack": {"start": {strconv.FormatInt(now-31*86400, 10)}, "end": {strconv.FormatInt(now-30*86400, 10)}},
			"RangeOverAWeek":      {"start": {strconv.FormatInt(now-8*86400, 10)}, "end": {strconv.FormatInt(now, 10)}},
			"StartAfterEnd":       {"start": {strconv.FormatInt(now, 10)}, "end": {strconv.FormatInt(now-60, 10)}},
			"PushType3":           {"push_type": {"3"}},
			"Count101":            {"count": {"101"}},
			"StartNotANumber":     {"start": {"yesterday"}},
			"IDListNotNumbers":    {"id_list": {"1,x"}},
		} {
			if g := get(q); g.Errno != 40001 || g.Msg != "参数错误" {
				t.Errorf("%s: errno %d %q; want 40001 参数错误", name, g.Errno, g.Msg)
			}
		}
		var gw struct {
			ErrorCode int `json:"error_code"`
		}
		if f.tpGet(smartappmock.GetMsgPath, url.Values{"access_token": {"24.not-a-platform-token"}}, &gw); gw.ErrorCode != 110 {
			t.Errorf("a mini program's token: error_code %d; want 110", gw.ErrorCode)
		}
	})
}

// TestGetMsg_PendingWhileDelivering: a push still being delivered is listed with status 0.
func TestGetMsg_PendingWhileDelivering(t *testing.T) {
	t.Parallel()
	rcv := newPlatformReceiver(t)
	rcv.hold = make(chan struct{})
	f := setup(t, tpPushConfig(rcv.URL, ", timeout: 30s"))
	token := f.platformToken()
	done := make(chan admin.PlatformPushAnswer)
	go func() {
		var ans admin.PlatformPushAnswer
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, admin.Prefix+"/platforms/tp-key/push", strings.NewReader(`{"event":"ticket"}`)))
		_ = json.Unmarshal(rec.Body.Bytes(), &ans)
		done <- ans
	}()
	var g getMsg
	deadline := time.Now().Add(10 * time.Second)
	for len(g.Data.List) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		f.tpGet(smartappmock.GetMsgPath, url.Values{"access_token": {token}}, &g)
	}
	if len(g.Data.List) != 1 || g.Data.List[0].Status != mockserver.PlatformPushPending || g.Data.List[0].Content == "" {
		t.Errorf("getmsg while delivering = %+v; want one push with status 0 and its content", g.Data)
	}
	close(rcv.hold)
	if ans := <-done; ans.Status != mockserver.PlatformPushDelivered {
		t.Fatalf("push = %+v; want delivered", ans)
	}
	f.tpGet(smartappmock.GetMsgPath, url.Values{"access_token": {token}}, &g)
	if len(g.Data.List) != 1 || g.Data.List[0].Status != mockserver.PlatformPushDelivered {
		t.Errorf("getmsg after = %+v; want status 1", g.Data)
	}
}

// TestTicketSchedule_PushesEveryPeriod: with ticket_every 1s the platform gets its ticket without
// being asked, and the schedule stops with its context.
func TestTicketSchedule_PushesEveryPeriod(t *testing.T) {
	t.Parallel()
	rcv := newPlatformReceiver(t)
	f := setup(t, tpPushConfig(rcv.URL, ", ticket_every: 1s"))
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { f.srv.Core.RunTicketSchedule(ctx); close(stopped) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(rcv.received()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-stopped
	got := rcv.received()
	if len(got) < 2 {
		t.Fatalf("the platform got %d tickets in 10 s; want at least 2", len(got))
	}
	for _, g := range got {
		if g["Ticket"] != "tp-ticket" || g["MsgType"] != "ticket" {
			t.Errorf("scheduled push = %v; want the ticket", g)
		}
	}
}
