package sandbox_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/mockserver/sandbox"
)

// inboxConfig has one app with a user who wrote, a forced gateway answer for user-gw, and room for
// thousands of journal entries.
const inboxConfig = `
version: 1
policy:
  apps: configured
  tokens: issued
  window: {mode: require_user_message, duration: 48h, max_replies: 5}
  magic_values: true
  journal_cap: 6000
apps:
  - id: "1001"
    client_id: key-a
    client_secret: secret-a
    tokens: [tok-a]
    user_messages: [user-a]
    templates: [tpl-1]
  - id: "1002"
    client_id: key-b
    client_secret: secret-b
    tokens: [tok-b]
rules:
  - name: gateway busy for user-gw
    match: {open_id: user-gw}
    answer: {error_code: 18}
`

// inboxClock is a clock that stands still unless moved.
type inboxClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *inboxClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// inboxFake is a fake behind a real loopback HTTP server.
type inboxFake struct {
	t     testing.TB
	srv   *sandbox.Sandbox
	http  *httptest.Server
	token string // admin token, "" for none
}

func newInboxFake(t testing.TB, adminToken string) *inboxFake {
	t.Helper()
	cfg, err := config.Parse("inbox.yaml", []byte(inboxConfig))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	clock := &inboxClock{t: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	srv, err := sandbox.New(mockserver.Options{Config: cfg, Now: clock.Now, Version: "test"}, admin.Options{Token: adminToken})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &inboxFake{t: t, srv: srv, http: hs, token: adminToken}
}

// send posts a form to the send endpoint with a real HTTP client and returns the answer's layer
// and code as the client reads them.
func (f *inboxFake) send(token string, form url.Values) inboxAnswer {
	f.t.Helper()
	res, err := f.http.Client().PostForm(f.http.URL+smartappmock.SendPath+"?access_token="+url.QueryEscape(token), form)
	if err != nil {
		f.t.Fatalf("send: %v", err)
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		f.t.Fatalf("send: answer is not JSON: %v", err)
	}
	if n, ok := m["errno"].(float64); ok {
		return inboxAnswer{Layer: "business", Code: int(n)}
	}
	if n, ok := m["error_code"].(float64); ok {
		return inboxAnswer{Layer: "gateway", Code: int(n)}
	}
	f.t.Fatalf("send: answer has neither errno nor error_code: %v", m)
	return inboxAnswer{}
}

type inboxAnswer struct {
	Layer string
	Code  int
}

func inboxText(openID, content string) url.Values {
	return url.Values{"user_type": {"1"}, "open_id": {openID}, "msg_type": {"text"}, "content": {content}, "pic_url": {""}}
}

func inboxImage(openID, picURL string) url.Values {
	return url.Values{"user_type": {"1"}, "open_id": {openID}, "msg_type": {"image"}, "content": {""}, "pic_url": {picURL}}
}

// get fetches path with the client and optional bearer token, without following redirects.
func (f *inboxFake) get(c *http.Client, path, bearer string) (*http.Response, string) {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.http.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := c.Do(req)
	if err != nil {
		f.t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func noRedirects(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestInboxAdminToken pins that the inbox opens no way around --admin-token: without the token
// or the session cookie it got for it, the page sends to the login form and every feed is 401.
func TestInboxAdminToken(t *testing.T) {
	t.Parallel()
	f := newInboxFake(t, "s3cret")
	anon := noRedirects(nil)
	tests := []struct {
		name     string
		path     string
		bearer   string
		status   int
		location string
	}{
		{"PageWithoutToken_RedirectsToLogin", "/__admin/ui?app=1001", "", http.StatusSeeOther, "/__admin/ui/login?q=app%3D1001"},
		{"PageWithWrongTokenParam_LoginSaysFailed", "/__admin/ui?token=nope", "", http.StatusSeeOther, "/__admin/ui/login?failed=1"},
		{"EntriesWithoutToken_Unauthorized", "/__admin/ui/api/entries?app=1001", "", http.StatusUnauthorized, ""},
		{"StateWithoutToken_Unauthorized", "/__admin/ui/api/state?app=1001", "", http.StatusUnauthorized, ""},
		{"EventsWithoutToken_Unauthorized", "/__admin/ui/events?app=1001", "", http.StatusUnauthorized, ""},
		{"SubPathWithoutToken_Unauthorized", "/__admin/ui/nothing", "", http.StatusUnauthorized, ""},
		{"EntriesWithWrongBearer_Unauthorized", "/__admin/ui/api/entries", "wrong", http.StatusUnauthorized, ""},
		{"EntriesWithBearer_OK", "/__admin/ui/api/entries", "s3cret", http.StatusOK, ""},
		{"PageWithBearer_OK", "/__admin/ui", "s3cret", http.StatusOK, ""},
		{"LoginForm_Open", "/__admin/ui/login", "", http.StatusOK, ""},
		{"Script_Open", "/__admin/ui/assets/inbox.js", "", http.StatusOK, ""},
		{"UnknownAsset_NotFound", "/__admin/ui/assets/secret.txt", "s3cret", http.StatusNotFound, ""},
		{"AdminAPIWithoutToken_StillUnauthorized", "/__admin/requests", "", http.StatusUnauthorized, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := f.get(anon, tc.path, tc.bearer)
			got := []any{res.StatusCode, res.Header.Get("Location")}
			if diff := cmp.Diff([]any{tc.status, tc.location}, got); diff != "" {
				t.Errorf("GET %s mismatch (-want +got):\n%s\nbody: %s", tc.path, diff, body)
			}
		})
	}
}

// TestInboxLogin walks the login form: a wrong token is refused, the right one gives an HttpOnly
// SameSite=Strict cookie that opens the page and the feeds, and a state change with the cookie
// needs the inbox header.
func TestInboxLogin(t *testing.T) {
	t.Parallel()
	f := newInboxFake(t, "s3cret")
	jar, _ := cookiejar.New(nil)
	c := noRedirects(jar)

	res, err := c.PostForm(f.http.URL+"/__admin/ui/login", url.Values{"token": {"wrong"}, "q": {"app=1001"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || len(res.Cookies()) != 0 {
		t.Fatalf("login with a wrong token: status %d, cookies %v; want 401 and no cookie", res.StatusCode, res.Cookies())
	}

	res, err = c.PostForm(f.http.URL+"/__admin/ui/login", url.Values{"token": {"s3cret"}, "q": {"app=1001"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if diff := cmp.Diff("/__admin/ui?app=1001", res.Header.Get("Location")); res.StatusCode != http.StatusSeeOther || diff != "" {
		t.Fatalf("login: status %d, location mismatch (-want +got):\n%s", res.StatusCode, diff)
	}
	cookies := res.Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Path != "/__admin" {
		t.Fatalf("login cookie = %+v; want one HttpOnly SameSite=Strict cookie on /__admin", cookies)
	}
	if strings.Contains(cookies[0].Value, "s3cret") {
		t.Errorf("the session cookie holds the admin token itself")
	}

	for _, path := range []string{"/__admin/ui?app=1001", "/__admin/ui/api/entries?app=1001", "/__admin/ui/api/state?app=1001", "/__admin/requests"} {
		if res, body := f.get(c, path, ""); res.StatusCode != http.StatusOK {
			t.Errorf("GET %s with the session cookie: %d %s; want 200", path, res.StatusCode, body)
		}
	}

	post := func(header bool) int {
		req, _ := http.NewRequest(http.MethodPost, f.http.URL+"/__admin/apps/1001/clock", strings.NewReader(`{"advance":"1h"}`))
		if header {
			req.Header.Set("X-Smartappmock-Inbox", "1")
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := post(false); got != http.StatusUnauthorized {
		t.Errorf("POST with the cookie but without the inbox header: %d; want 401", got)
	}
	if got := post(true); got != http.StatusOK {
		t.Errorf("POST with the cookie and the inbox header: %d; want 200", got)
	}

	res, err = c.Post(f.http.URL+"/__admin/ui/logout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res, _ := f.get(c, "/__admin/ui/api/entries", ""); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("feed after logout: %d; want 401", res.StatusCode)
	}
}

// TestInboxTokenParam_SwapsForCookie pins that ?token= on the page sets the cookie and sends to
// an address without the token.
func TestInboxTokenParam_SwapsForCookie(t *testing.T) {
	t.Parallel()
	f := newInboxFake(t, "s3cret")
	jar, _ := cookiejar.New(nil)
	c := noRedirects(jar)
	res, _ := f.get(c, "/__admin/ui?app=1001&token=s3cret", "")
	if diff := cmp.Diff("/__admin/ui?app=1001", res.Header.Get("Location")); res.StatusCode != http.StatusSeeOther || diff != "" {
		t.Fatalf("status %d, location mismatch (-want +got):\n%s", res.StatusCode, diff)
	}
	if res, body := f.get(c, "/__admin/ui?app=1001", ""); res.StatusCode != http.StatusOK {
		t.Errorf("page after the swap: %d %s", res.StatusCode, body)
	}
}

// TestInboxPage_EscapesTheView pins that what the address says is escaped in the page.
func TestInboxPage_EscapesTheView(t *testing.T) {
	t.Parallel()
	f := newInboxFake(t, "")
	res, body := f.get(noRedirects(nil), "/__admin/ui?app=1001&open_id="+url.QueryEscape(`"><script>alert(1)</script>`), "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	if strings.Contains(body, "<script>alert") {
		t.Errorf("the page reflects open_id unescaped:\n%s", body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy = %q; want scripts from the fake only", csp)
	}
}

// TestInboxBadQuery pins clear errors for a bad view.
func TestInboxBadQuery(t *testing.T) {
	t.Parallel()
	f := newInboxFake(t, "")
	tests := []struct {
		name, path string
		status     int
		errHas     string
	}{
		{"UnknownParameter", "/__admin/ui/api/entries?user=x", 400, `unknown query parameter "user"`},
		{"LimitTooLarge", "/__admin/ui/api/entries?limit=999999", 400, "limit"},
		{"BeforeNotANumber", "/__admin/ui/api/entries?before=x", 400, "before"},
		{"StateWithoutApp", "/__admin/ui/api/state", 400, "app: required"},
		{"StateUnknownApp", "/__admin/ui/api/state?app=nope", 404, `unknown app "nope"`},
		{"PageUnknownApp", "/__admin/ui?app=nope", 404, `unknown app "nope"`},
		{"EventsAfterNotANumber", "/__admin/ui/events?after=x", 400, "after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := f.get(noRedirects(nil), tc.path, "")
			var e struct{ Error string }
			_ = json.Unmarshal([]byte(body), &e)
			if res.StatusCode != tc.status || !strings.Contains(e.Error, tc.errHas) {
				t.Errorf("GET %s = %d %q; want %d with %q", tc.path, res.StatusCode, e.Error, tc.status, tc.errHas)
			}
		})
	}
}

type inboxFeedItem struct {
	Seq      uint64 `json:"seq"`
	OpenID   string `json:"open_id"`
	Content  string `json:"content"`
	PicURL   string `json:"pic_url"`
	ImageURL string `json:"image_url"`
	CodeName string `json:"code_name"`
	Code     int    `json:"code"`
	Message  string `json:"message"`
	Match    bool   `json:"match"`
}

func (f *inboxFake) entries(path string) ([]inboxFeedItem, bool) {
	f.t.Helper()
	res, body := f.get(noRedirects(nil), path, f.token)
	if res.StatusCode != http.StatusOK {
		f.t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
	}
	var out struct {
		Entries []inboxFeedItem
		More    bool
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		f.t.Fatal(err)
	}
	return out.Entries, out.More
}

// TestInboxEntries_PagesOldestFirstWithBaiduMessages pins the thread feed: pages of the newest
// entries, oldest first within a page, Baidu's message for each code, and only http(s) images.
func TestInboxEntries_PagesOldestFirstWithBaiduMessages(t *testing.T) {
	t.Parallel()
	f := newInboxFake(t, "")
	f.send("tok-a", inboxText("user-a", "一"))
	f.send("tok-a", inboxImage("user-a", "javascript:alert(1)"))
	f.send("tok-a", inboxImage("user-a", "https://img.example/p.png"))
	f.send("tok-a", inboxText("user-gw", "busy"))
	f.send("tok-a", inboxText("errno_30022", "foreign"))

	page, more := f.entries("/__admin/ui/api/entries?app=1001&limit=3")
	type row struct {
		OpenID, Content, PicURL, ImageURL, CodeName string
		Code                                        int
		Message                                     string
	}
	got := []row{}
	for _, it := range page {
		got = append(got, row{it.OpenID, it.Content, it.PicURL, it.ImageURL, it.CodeName, it.Code, it.Message})
	}
	cat := f.srv.Core.Spec().Catalogue()
	msg18, _ := cat.GatewayMessage(18)
	msg30022, _ := cat.BusinessMessage(30022)
	msg0, _ := cat.BusinessMessage(0)
	want := []row{
		{"user-a", "", "https://img.example/p.png", "https://img.example/p.png", "errno", 0, msg0},
		{"user-gw", "busy", "", "", "error_code", 18, msg18},
		{"errno_30022", "foreign", "", "", "errno", 30022, msg30022},
	}
	if diff := cmp.Diff(want, got); diff != "" || !more {
		t.Fatalf("newest page (more=%v) mismatch (-want +got):\n%s", more, diff)
	}
	older, more := f.entries("/__admin/ui/api/entries?app=1001&limit=3&before=" + itoa(page[0].Seq))
	gotOlder := []row{}
	for _, it := range older {
		gotOlder = append(gotOlder, row{it.OpenID, it.Content, it.PicURL, it.ImageURL, it.CodeName, it.Code, it.Message})
	}
	wantOlder := []row{
		{"user-a", "一", "", "", "errno", 0, msg0},
		{"user-a", "", "javascript:alert(1)", "", "errno", 0, msg0},
	}
	if diff := cmp.Diff(wantOlder, gotOlder); diff != "" || more {
		t.Errorf("older page (more=%v) mismatch (-want +got):\n%s", more, diff)
	}
	failed, _ := f.entries("/__admin/ui/api/entries?app=1001&outcome=error")
	if len(failed) != 2 {
		t.Errorf("outcome=error gave %d entries; want the 2 failures", len(failed))
	}
}

func itoa(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// events opens an event stream and returns a function that waits for its next entry.
func (f *inboxFake) events(path string) func() inboxFeedItem {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	f.t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.http.URL+path, nil)
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	res, err := f.http.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { res.Body.Close() })
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		f.t.Fatalf("Content-Type = %q", ct)
	}
	events := make(chan inboxFeedItem)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var it inboxFeedItem
				if json.Unmarshal([]byte(data), &it) == nil {
					select {
					case events <- it:
					case <-ctx.Done():
						return
					}
				}
			}
		}
	}()
	return func() inboxFeedItem {
		f.t.Helper()
		select {
		case it, ok := <-events:
			if !ok {
				f.t.Fatal("stream ended")
			}
			return it
		case <-ctx.Done():
			f.t.Fatal("no event within 20s")
		}
		return inboxFeedItem{}
	}
}

// TestInboxEvents_AfterZeroSendsWhatMatches pins that a page that found nothing still gets an entry
// recorded between its fetch and its stream.
func TestInboxEvents_AfterZeroSendsWhatMatches(t *testing.T) {
	t.Parallel()
	f := newInboxFake(t, "")
	f.send("tok-a", inboxText("user-x", "not for this view"))
	f.send("tok-a", inboxText("user-a", "before the stream"))
	next := f.events("/__admin/ui/events?app=1001&open_id=user-a&after=0")
	if diff := cmp.Diff("before the stream", next().Content); diff != "" {
		t.Errorf("first event mismatch (-want +got):\n%s", diff)
	}
}

// TestInboxEvents_BacklogThenLive pins the event stream: entries after "after" first, then new
// ones as they are recorded, each marked with whether it passes the view's filters.
func TestInboxEvents_BacklogThenLive(t *testing.T) {
	t.Parallel()
	f := newInboxFake(t, "s3cret")
	f.send("tok-a", inboxText("user-a", "before the page"))
	first, _ := f.entries("/__admin/ui/api/entries?app=1001")
	f.send("tok-a", inboxText("user-a", "between page and stream"))
	f.send("tok-b", inboxText("user-b", "another app"))

	next := f.events("/__admin/ui/events?app=1001&open_id=user-a&after=" + itoa(first[len(first)-1].Seq))
	type ev struct {
		OpenID, Content string
		Match           bool
	}
	got := []ev{}
	it := next()
	got = append(got, ev{it.OpenID, it.Content, it.Match})
	f.send("tok-a", inboxText("user-a2", "live, other user"))
	f.send("tok-a", inboxText("user-a", "live"))
	for range 2 {
		it := next()
		got = append(got, ev{it.OpenID, it.Content, it.Match})
	}
	want := []ev{
		{"user-a", "between page and stream", true},
		{"user-a2", "live, other user", false},
		{"user-a", "live", true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
}

// TestInboxState_UsersAndWindows pins the user list: last activity first, with the window.
func TestInboxState_UsersAndWindows(t *testing.T) {
	t.Parallel()
	f := newInboxFake(t, "")
	f.send("tok-a", inboxText("user-a", "1"))
	f.send("tok-a", inboxText("user-z", "no window"))
	res, body := f.get(noRedirects(nil), "/__admin/ui/api/state?app=1001", "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("state: %d %s", res.StatusCode, body)
	}
	var st struct {
		Clock string
		Users []struct {
			OpenID      string `json:"open_id"`
			Sends       int
			Failed      int
			Window      string
			RepliesLeft int `json:"replies_left"`
		}
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	type user struct {
		OpenID        string
		Sends, Failed int
		Window        string
		Left          int
	}
	got := []user{}
	for _, u := range st.Users {
		got = append(got, user{u.OpenID, u.Sends, u.Failed, u.Window, u.RepliesLeft})
	}
	// Both sent at the same instant of the standing clock: ties go by open_id.
	want := []user{
		{"user-a", 1, 0, "4 of 5 replies left, 48h00m left", 4},
		{"user-z", 1, 1, "no window: sends answer 90001 until the user writes", 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("2026-11-24 10:00:00 UTC", st.Clock); diff != "" {
		t.Errorf("clock mismatch (-want +got):\n%s", diff)
	}
}

// TestInboxEvents_EndOnShutdown pins that an open event stream does not hold http.Server.Shutdown
// up: a browser tab left open must not stop the fake from exiting.
func TestInboxEvents_EndOnShutdown(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse("inbox.yaml", []byte(inboxConfig))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sandbox.New(mockserver.Options{Config: cfg}, admin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	hs.Start()
	defer hs.Close()
	res, err := hs.Client().Get(hs.URL + "/__admin/ui/events?app=1001")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if _, err := bufio.NewReader(res.Body).ReadString('\n'); err != nil {
		t.Fatalf("reading the stream: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Config.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown with an open event stream: %v; want the stream to end", err)
	}
}
