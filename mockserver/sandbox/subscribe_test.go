package sandbox

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/internal/teststores"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/store"
)

// withTemplates gives app 1001 of configtest.Strict its template, tpl-1 (policy.templates is
// listed there: an app has the templates it lists).
func withTemplates(o *mockserver.Options) { o.Config.Apps[0].Templates = []string{"tpl-1"} }

// subscribeForm posts a subscribe message as Baidu's Go SDK does (every field, page empty).
func (f *fixture) subscribeForm(token, openID, template, subscribeID string) response {
	f.t.Helper()
	form := url.Values{"template_id": {template}, "touser_openId": {openID}, "subscribe_id": {subscribeID},
		"data": {`{"keyword1":{"value":"2026-11-24"}}`}, "page": {""}}
	req := httptest.NewRequest(http.MethodPost, smartappmock.SubscribeSendPath+"?access_token="+url.QueryEscape(token)+"&sp_sdk_ver=0.1.2&sp_sdk_lang=Go",
		strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.do(req)
}

// TestSubscriptions_AdminAPI: a user past the window gets 90001, consents through the admin API
// (twice: one consent), gets one subscribe message, then 4007; the consents list and the journal
// say so. On every store.
func TestSubscriptions_AdminAPI(t *testing.T) {
	t.Parallel()
	teststores.Each(t, func(t *testing.T, k teststores.Kind) {
		f := setupOpts(t, configtest.Strict, func(o *mockserver.Options) { o.Store = k.Open(t); withTemplates(o) })
		path := "/__admin/apps/1001/users/user-a/subscriptions"
		if got := f.sendForm("static-token-a", text("user-a", "hi")).outcome(t).Code; got != 0 {
			t.Fatalf("reply inside the window: %d", got)
		}
		f.clock.Advance(49 * time.Hour)
		if got := f.sendForm("static-token-a", text("user-a", "hi")).outcome(t).Code; got != smartappmock.ErrnoQuotaExceeded {
			t.Fatalf("reply after 49 hours: %d, want 90001", got)
		}
		var sub mockserver.Subscribed
		if code := f.admin(http.MethodPost, path, `{"template_id":"tpl-1","subscribe_id":"order-shipped"}`, &sub); code != http.StatusOK || !sub.Created {
			t.Fatalf("consent: %d %+v", code, sub)
		}
		if code := f.admin(http.MethodPost, path, `{"template_id":"tpl-1","subscribe_id":"order-shipped"}`, &sub); code != http.StatusOK || sub.Created {
			t.Fatalf("repeated consent: %d %+v, want 200 and created false", code, sub)
		}
		var list admin.SubscriptionList
		if code := f.admin(http.MethodGet, "/__admin/apps/1001/subscriptions", "", &list); code != 200 || len(list.Subscriptions) != 1 {
			t.Fatalf("list: %d %+v", code, list)
		}
		if got := f.subscribeForm("static-token-a", "user-a", "tpl-1", "order-shipped").outcome(t); got.Code != 0 {
			t.Fatalf("subscribe message: %+v", got)
		}
		if got := f.subscribeForm("static-token-a", "user-a", "tpl-1", "order-shipped").outcome(t); got.Code != smartappmock.ErrnoNotSubscribed {
			t.Fatalf("second subscribe message: %+v, want 4007", got)
		}
		if code := f.admin(http.MethodGet, path, "", &list); code != 200 || len(list.Subscriptions) != 0 {
			t.Fatalf("list after the message: %d %+v", code, list)
		}
		f.admin(http.MethodPost, path, `{"template_id":"tpl-1","subscribe_id":"order-shipped"}`, nil)
		if res := f.do(httptest.NewRequest(http.MethodDelete, path+"?template_id=tpl-1&subscribe_id=order-shipped", nil)); res.Status != http.StatusOK {
			t.Fatalf("cancel: %d %s", res.Status, res.Body)
		}
		if got := f.subscribeForm("static-token-a", "user-a", "tpl-1", "order-shipped").outcome(t); got.Code != smartappmock.ErrnoNotSubscribed {
			t.Fatalf("subscribe message after a cancel: %+v, want 4007", got)
		}
		var errBody admin.ErrorBody
		if code := f.admin(http.MethodPost, "/__admin/apps/1001/users/user-of-b/subscriptions", `{"template_id":"tpl-1","subscribe_id":"s"}`, &errBody); code != http.StatusBadRequest || !strings.Contains(errBody.Error, "another mini program") {
			t.Fatalf("consent of a foreign open_id: %d %+v", code, errBody)
		}
		if code := f.admin(http.MethodPost, "/__admin/apps/nope/users/u/subscriptions", `{"template_id":"t","subscribe_id":"s"}`, &errBody); code != http.StatusNotFound {
			t.Fatalf("consent in an unknown app: %d %+v", code, errBody)
		}
		var got []string
		for _, e := range f.journal(store.Query{App: "1001"}) {
			if e.Endpoint == "subscribe_send" || e.Endpoint == mockserver.EndpointSubscription {
				got = append(got, e.Endpoint+" "+strings.Fields(e.Reason)[0]+" "+itoa(e.Code))
			}
		}
		want := "subscribe_send no 4007|subscription the 0|subscription the 0|subscribe_send no 4007|subscribe_send consent 0|subscription the 0|subscription the 0"
		if strings.Join(got, "|") != want {
			t.Errorf("journal (newest first):\n%s\nwant\n%s", strings.Join(got, "|"), want)
		}
	})
}

// TestScenes_AdminAPI: a form scene made through the admin API carries one template message.
func TestScenes_AdminAPI(t *testing.T) {
	t.Parallel()
	f := setupOpts(t, "", withTemplates)
	var sc mockserver.Scene
	if code := f.admin(http.MethodPost, "/__admin/apps/1001/users/user-a/scenes", `{"scene_type":1}`, &sc); code != http.StatusOK || sc.Messages != 1 {
		t.Fatalf("scene: %d %+v", code, sc)
	}
	send := func() int {
		form := url.Values{"template_id": {"tpl-1"}, "touser_openId": {"user-a"}, "data": {`{"k":{"value":"v"}}`}, "scene_id": {sc.ID}, "scene_type": {"1"}}
		req := httptest.NewRequest(http.MethodPost, smartappmock.TemplateSendPath+"?access_token=static-token-a", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return f.do(req).outcome(t).Code
	}
	if got := send(); got != 0 {
		t.Fatalf("first: %d", got)
	}
	if got := send(); got != smartappmock.ErrnoFormInvalid {
		t.Fatalf("second: %d, want 4003", got)
	}
	if code := f.admin(http.MethodPost, "/__admin/apps/1001/users/user-a/scenes", `{"scene_type":7}`, nil); code != http.StatusBadRequest {
		t.Fatalf("scene type 7: %d", code)
	}
}

// TestInbox_ShowsSubscriptionsAndChecks: the inbox's entries name a consent, a subscribe message
// with its template, and a text check with Baidu's message for its errno.
func TestInbox_ShowsSubscriptionsAndChecks(t *testing.T) {
	t.Parallel()
	f := setupOpts(t, "", withTemplates)
	f.admin(http.MethodPost, "/__admin/apps/1001/users/user-a/subscriptions", `{"template_id":"tpl-1","subscribe_id":"s1"}`, nil)
	f.subscribeForm("static-token-a", "user-a", "tpl-1", "s1")
	f.subscribeForm("static-token-a", "user-a", "tpl-1", "s1")
	req := httptest.NewRequest(http.MethodPost, smartappmock.CheckTextPath+"?access_token=static-token-a", strings.NewReader(`{"content":"来赌博吧"}`))
	req.Header.Set("Content-Type", "application/json")
	f.do(req)
	var page struct {
		Entries []struct {
			Endpoint, Detail, Message string
			Code                      int
		}
	}
	if code := f.admin(http.MethodGet, "/__admin/ui/api/entries?app=1001", "", &page); code != http.StatusOK {
		t.Fatalf("entries: %d", code)
	}
	var got []string
	for _, e := range page.Entries {
		got = append(got, e.Endpoint+" "+itoa(e.Code)+" "+e.Message+" | "+e.Detail)
	}
	want := []string{
		`subscription 0 success | the user consented to one message of template "tpl-1" under subscribe_id "s1"`,
		`subscribe_send 0 success | subscribe message: template tpl-1, subscribe_id s1, data {"keyword1":{"value":"2026-11-24"}}`,
		`subscribe_send 4007 用户未订阅该消息,如果用户之前曾经订阅过,则表示用户取消了订阅关系 | subscribe message: template tpl-1, subscribe_id s1, data {"keyword1":{"value":"2026-11-24"}}`,
		`check_text 82512 potential risk | checked risk: the word "赌博" is listed`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("inbox entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
