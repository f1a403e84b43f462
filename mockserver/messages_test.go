package mockserver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/internal/spec"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// msgFixture is a server on a fixed clock, its answers checked against openapi.yaml.
type msgFixture struct {
	t   *testing.T
	s   *mockserver.Server
	now time.Time
}

// msgConfig: app 3001 lists its templates and users (policy.open_ids: issued, under --profile
// baidu); tokens are fixed; a window needs a user message (Baidu's rule).
const msgConfig = `
version: 1
policy:
  profile: baidu
apps:
  - id: "3001"
    client_id: key-3001
    client_secret: s
    tokens: [tok-3001]
    templates: [tpl-order, tpl-other]
    open_ids: [user-a, user-b]
    users: [{open_id: user-a}, {open_id: user-b}]
    foreign_open_ids: [user-of-another-app]
    subscriptions:
      - {open_id: user-b, template_id: tpl-order, subscribe_id: sub-1}
  - id: "3002"
    client_id: key-3002
    client_secret: s
    tokens: [tok-3002]
    users: [{open_id: user-c}]
    content_checks:
      risk_words: [forbidden]
`

func newMsgFixture(t *testing.T, yaml string, st store.Store) *msgFixture {
	t.Helper()
	cfg, err := config.Parse("messages.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	f := &msgFixture{t: t, now: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	f.s, err = mockserver.New(mockserver.Options{Config: cfg, Store: st, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// answer is a decoded answer: status, outcome and reason headers, body.
type answer struct {
	status          int
	outcome, reason string
	warnings        []string
	body            map[string]any
	raw             string
}

func (a answer) errno() int {
	if n, ok := a.body["errno"].(float64); ok {
		return int(n)
	}
	if n, ok := a.body["error_code"].(float64); ok {
		return int(n)
	}
	return -1
}

// do serves r and checks the answer against openapi.yaml.
func (f *msgFixture) do(r *http.Request) answer {
	f.t.Helper()
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	w := httptest.NewRecorder()
	f.s.ServeHTTP(w, r)
	probe := r.Clone(r.Context())
	if vs := f.s.Spec().CheckResponse(probe, w.Code, w.Header(), w.Body.Bytes()); len(vs) > 0 {
		f.t.Errorf("%s %s: the answer breaks openapi.yaml: %s\n%s", r.Method, r.URL.Path, spec.Join(vs), w.Body)
	}
	a := answer{status: w.Code, outcome: w.Header().Get(smartappmock.HeaderOutcome), reason: w.Header().Get(smartappmock.HeaderReason),
		warnings: w.Header().Values(smartappmock.HeaderWarning), raw: w.Body.String()}
	if err := json.Unmarshal(w.Body.Bytes(), &a.body); err != nil {
		f.t.Fatalf("%s %s: body %q is not JSON: %v", r.Method, r.URL.Path, w.Body, err)
	}
	return a
}

// goForm is a POST as Baidu's Go SDK sends it: the token and sp_sdk_ver, sp_sdk_lang in the query,
// every field in a urlencoded body (empty ones included).
func goForm(path, token string, fields [][2]string) *http.Request {
	q := url.Values{"access_token": {token}, "sp_sdk_ver": {"0.1.2"}, "sp_sdk_lang": {"Go"}}
	form := url.Values{}
	for _, kv := range fields {
		form.Set(kv[0], kv[1])
	}
	r := httptest.NewRequest(http.MethodPost, path+"?"+q.Encode(), strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// phpForm is a POST as Baidu's PHP SDK sends it: sp_sdk_lang, sp_sdk_ver and the token in the
// query, in that order (http_build_query); the fields that are set in a urlencoded body, in the
// SDK's order (an empty value here stands for a field left unset: PHP's isset skips it);
// Content-Type with a trailing ";" and no space.
func phpForm(path, token string, fields [][2]string) *http.Request {
	q := "sp_sdk_lang=php&sp_sdk_ver=0.1.5&access_token=" + url.QueryEscape(token)
	var body []string
	for _, kv := range fields {
		if kv[1] != "" {
			body = append(body, url.QueryEscape(kv[0])+"="+url.QueryEscape(kv[1]))
		}
	}
	r := httptest.NewRequest(http.MethodPost, path+"?"+q, strings.NewReader(strings.Join(body, "&")))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded;")
	return r
}

const orderData = `{"keyword1":{"value":"2026-12-01"},"keyword2":{"value":"kfc"}}`

func subscribeFields(openID, template, subscribeID, data string) [][2]string {
	return [][2]string{{"template_id", template}, {"touser_openId", openID}, {"subscribe_id", subscribeID}, {"data", data}, {"page", ""}}
}

func (f *msgFixture) consent(app, openID, template, subscribeID string) mockserver.Subscribed {
	f.t.Helper()
	got, err := f.s.Subscribe(f.t.Context(), app, mockserver.Subscription{OpenID: openID, TemplateID: template, SubscribeID: subscribeID})
	if err != nil {
		f.t.Fatalf("Subscribe: %v", err)
	}
	return got
}

// TestSubscribeSend_Outcomes drives the subscribe send through each documented answer, with the
// Go SDK's request shape and the PHP SDK's.
func TestSubscribeSend_Outcomes(t *testing.T) {
	t.Parallel()
	shapes := map[string]func(path, token string, fields [][2]string) *http.Request{"go": goForm, "php": phpForm}
	cases := []struct {
		name   string
		setup  func(f *msgFixture)
		token  string
		fields [][2]string
		want   int
		reason string // a part of the reason header
		msgKey bool
	}{
		{name: "Success_ConsentUsed", setup: func(f *msgFixture) { f.consent("3001", "user-a", "tpl-order", "sub-1") },
			token: "tok-3001", fields: subscribeFields("user-a", "tpl-order", "sub-1", orderData), want: 0, reason: "consent used", msgKey: true},
		{name: "Success_ConfiguredConsent", token: "tok-3001", fields: subscribeFields("user-b", "tpl-order", "sub-1", orderData), want: 0, msgKey: true},
		{name: "ErrNotSubscribed_NoConsent", token: "tok-3001", fields: subscribeFields("user-a", "tpl-order", "sub-1", orderData), want: 4007, reason: "no consent"},
		{name: "ErrNotSubscribed_OtherSubscribeID", setup: func(f *msgFixture) { f.consent("3001", "user-a", "tpl-order", "sub-1") },
			token: "tok-3001", fields: subscribeFields("user-a", "tpl-order", "sub-2", orderData), want: 4007},
		{name: "ErrTemplateID_NotTheAppsTemplate", token: "tok-3001", fields: subscribeFields("user-a", "tpl-unknown", "sub-1", orderData), want: 4001, reason: "apps[].templates"},
		{name: "ErrTemplateID_AppListsNone", token: "tok-3002", fields: subscribeFields("user-c", "tpl-order", "sub-1", orderData), want: 4001, reason: "policy.templates: any"},
		{name: "ErrOpenID_NotIssued", token: "tok-3002", fields: subscribeFields("user-z", "tpl-order", "sub-1", orderData), want: 4010, reason: "not a user this fake issued"},
		{name: "ErrOpenID_AnotherAppsUser", token: "tok-3002", fields: subscribeFields("user-a", "tpl-order", "sub-1", orderData), want: 4010, reason: "belongs to app 3001"},
		{name: "ErrOpenID_ForeignUser", token: "tok-3001", fields: subscribeFields("user-of-another-app", "tpl-order", "sub-1", orderData), want: 4010, reason: "touser_openId"},
		{name: "ErrOpenID_NotAUser", token: "tok-3001", fields: subscribeFields("stranger", "tpl-order", "sub-1", orderData), want: 4010},
		{name: "ErrParam_DataNotJSON", token: "tok-3001", fields: subscribeFields("user-a", "tpl-order", "sub-1", "kfc"), want: 2002, reason: "data: not JSON"},
		{name: "ErrParam_DataWithoutValue", token: "tok-3001", fields: subscribeFields("user-a", "tpl-order", "sub-1", `{"keyword1":"kfc"}`), want: 2002, reason: `"value"`},
		{name: "ErrParam_NoSubscribeID", token: "tok-3001", fields: subscribeFields("user-a", "tpl-order", "", orderData), want: 2002, reason: "subscribe_id"},
		{name: "ErrToken_Missing", token: "", fields: subscribeFields("user-a", "tpl-order", "sub-1", orderData), want: 100},
		{name: "ErrToken_NotIssued", token: "tok-nobody", fields: subscribeFields("user-a", "tpl-order", "sub-1", orderData), want: 110},
	}
	for shape, build := range shapes {
		for _, c := range cases {
			t.Run(shape+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				f := newMsgFixture(t, msgConfig, nil)
				if c.setup != nil {
					c.setup(f)
				}
				fields := c.fields
				a := f.do(build(smartappmock.SubscribeSendPath, c.token, fields))
				if a.errno() != c.want || a.status != http.StatusOK {
					t.Fatalf("answer %d %s (reason %q), want errno %d", a.status, a.raw, a.reason, c.want)
				}
				if !strings.Contains(a.reason, c.reason) {
					t.Errorf("reason %q does not say %q", a.reason, c.reason)
				}
				data, _ := a.body["data"].(map[string]any)
				if _, isNumber := data["msg_key"].(float64); isNumber != c.msgKey {
					t.Errorf("data.msg_key a number: %v, want %v (%s)", isNumber, c.msgKey, a.raw)
				}
			})
		}
	}
}

// TestSubscribeSend_OncePerConsent: a consent carries one message; consenting again before it was
// used adds nothing; consenting again after it was used carries one more.
func TestSubscribeSend_OncePerConsent(t *testing.T) {
	t.Parallel()
	f := newMsgFixture(t, msgConfig, nil)
	send := func() int {
		return f.do(goForm(smartappmock.SubscribeSendPath, "tok-3001", subscribeFields("user-a", "tpl-order", "sub-1", orderData))).errno()
	}
	if got := f.consent("3001", "user-a", "tpl-order", "sub-1"); !got.Created {
		t.Fatalf("first consent: Created false")
	}
	if got := f.consent("3001", "user-a", "tpl-order", "sub-1"); got.Created {
		t.Fatalf("repeated consent: Created true, consents must not add up")
	}
	if got := send(); got != 0 {
		t.Fatalf("first send: errno %d, want 0", got)
	}
	if got := send(); got != 4007 {
		t.Fatalf("second send: errno %d, want 4007 (one message per consent)", got)
	}
	f.consent("3001", "user-a", "tpl-order", "sub-1")
	if got := send(); got != 0 {
		t.Fatalf("send after a new consent: errno %d, want 0", got)
	}
	subs, err := f.s.Subscriptions(t.Context(), "3001", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 1 || subs[0].OpenID != "user-b" {
		t.Errorf("Subscriptions = %+v, want only user-b's configured one left", subs)
	}
}

// TestSubscribeSend_ConcurrentSendsTakeOneConsent: of many concurrent sends on one consent,
// exactly one succeeds.
func TestSubscribeSend_ConcurrentSendsTakeOneConsent(t *testing.T) {
	t.Parallel()
	f := newMsgFixture(t, msgConfig, nil)
	f.consent("3001", "user-a", "tpl-order", "sub-1")
	const n = 16
	results := make(chan int, n)
	for range n {
		go func() {
			r := goForm(smartappmock.SubscribeSendPath, "tok-3001", subscribeFields("user-a", "tpl-order", "sub-1", orderData))
			w := httptest.NewRecorder()
			f.s.ServeHTTP(w, r)
			var env struct{ Errno int }
			_ = json.Unmarshal(w.Body.Bytes(), &env)
			results <- env.Errno
		}()
	}
	ok := 0
	for range n {
		switch e := <-results; e {
		case 0:
			ok++
		case 4007:
		default:
			t.Errorf("errno %d", e)
		}
	}
	if ok != 1 {
		t.Fatalf("%d sends succeeded on one consent, want 1", ok)
	}
}

// TestSubscribeSend_Journal: the journal says what the client was told, with the recipient, and
// the consent is journaled as the user's action.
func TestSubscribeSend_Journal(t *testing.T) {
	t.Parallel()
	f := newMsgFixture(t, msgConfig, nil)
	f.consent("3001", "user-a", "tpl-order", "sub-1")
	f.do(goForm(smartappmock.SubscribeSendPath, "tok-3001", subscribeFields("user-a", "tpl-order", "sub-1", orderData)))
	f.do(goForm(smartappmock.SubscribeSendPath, "tok-3001", subscribeFields("user-a", "tpl-order", "sub-1", orderData)))
	es, err := f.s.Store().Journal(t.Context(), store.Query{App: "3001"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Endpoint+" "+e.OpenID+" "+string(e.Layer)+" "+strconv.Itoa(e.Code))
	}
	want := []string{"subscribe_send user-a business 4007", "subscribe_send user-a business 0", "subscription user-a business 0"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("journal (newest first):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSubscribe_UnlistedTemplateWarns: an app that lists no templates takes any, with a warning
// on the consent and the send.
func TestSubscribe_UnlistedTemplateWarns(t *testing.T) {
	t.Parallel()
	f := newMsgFixture(t, strings.Replace(msgConfig, "profile: baidu", "profile: sandbox\n  templates: any", 1), nil)
	got := f.consent("3002", "anyone", "any-template", "s")
	var kinds []string
	for _, w := range got.Warnings {
		kinds = append(kinds, w.Kind)
	}
	if strings.Join(kinds, ",") != "unlisted_template,unissued_open_id" {
		t.Fatalf("consent warnings %+v, want unlisted_template and unissued_open_id (policy.open_ids: any)", got.Warnings)
	}
	a := f.do(goForm(smartappmock.SubscribeSendPath, "tok-3002", subscribeFields("anyone", "any-template", "s", orderData)))
	if a.errno() != 0 || len(a.warnings) != 2 || !strings.Contains(a.warnings[0], "30022") || !strings.Contains(a.warnings[1], "4001") {
		t.Fatalf("send: %s, warnings %q", a.raw, a.warnings)
	}
}

// TestSubscribe_Refused: the consent's own refusals.
func TestSubscribe_Refused(t *testing.T) {
	t.Parallel()
	f := newMsgFixture(t, msgConfig, nil)
	for name, c := range map[string]struct {
		app  string
		sub  mockserver.Subscription
		code mockserver.ErrorCode
	}{
		"UnknownApp":      {"nope", mockserver.Subscription{OpenID: "u", TemplateID: "tpl-order", SubscribeID: "s"}, mockserver.ErrNotFound},
		"UnknownTemplate": {"3001", mockserver.Subscription{OpenID: "user-a", TemplateID: "tpl-x", SubscribeID: "s"}, mockserver.ErrInvalid},
		"ForeignUser":     {"3001", mockserver.Subscription{OpenID: "user-of-another-app", TemplateID: "tpl-order", SubscribeID: "s"}, mockserver.ErrInvalid},
		"NoSubscribeID":   {"3001", mockserver.Subscription{OpenID: "user-a", TemplateID: "tpl-order"}, mockserver.ErrInvalid},
	} {
		_, err := f.s.Subscribe(t.Context(), c.app, c.sub)
		if got := mockserver.ErrorCodeOf(err); got != c.code {
			t.Errorf("%s: %v (code %q), want %q", name, err, got, c.code)
		}
	}
}

// TestSubscribe_ResetRestoresConfigured: an app's reset drops consents given through the admin
// API and puts the configured ones back.
func TestSubscribe_ResetRestoresConfigured(t *testing.T) {
	t.Parallel()
	f := newMsgFixture(t, msgConfig, nil)
	f.consent("3001", "user-a", "tpl-order", "sub-1")
	f.do(goForm(smartappmock.SubscribeSendPath, "tok-3001", subscribeFields("user-b", "tpl-order", "sub-1", orderData)))
	if err := f.s.Store().Reset(t.Context(), "3001", f.s.Seed(f.now)); err != nil {
		t.Fatal(err)
	}
	subs, err := f.s.Subscriptions(t.Context(), "3001", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 1 || subs[0].OpenID != "user-b" || subs[0].Source != "config" {
		t.Fatalf("after reset: %+v, want the configured consent of user-b only", subs)
	}
}

// multipartImage builds an image check's body: the parts in order, each a name, filename (""
// for a text part), part type and content.
func multipartImage(boundary string, parts ...[4]string) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if boundary != "" {
		_ = mw.SetBoundary(boundary)
	}
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p[1] != "" {
			h.Set("Content-Disposition", `form-data; name="`+p[0]+`"; filename="`+p[1]+`"`)
			h.Set("Content-Type", p[2])
		} else {
			h.Set("Content-Disposition", `form-data; name="`+p[0]+`"`)
		}
		w, _ := mw.CreatePart(h)
		_, _ = w.Write([]byte(p[3]))
	}
	_ = mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

func templateFields(openID, swanID, template, sceneID, sceneType string) [][2]string {
	return [][2]string{{"template_id", template}, {"touser_openId", openID}, {"touser", swanID}, {"data", orderData}, {"page", ""},
		{"scene_id", sceneID}, {"scene_type", sceneType}}
}

// TestTemplateSend_Scenes drives the legacy template message through its scene rules and quotas:
// a form carries one message, a payment three, within 7 days, to the user who made it.
func TestTemplateSend_Scenes(t *testing.T) {
	t.Parallel()
	type step struct {
		fields [][2]string
		want   int
	}
	cases := []struct {
		name      string
		sceneType int
		guest     bool
		steps     func(id string) []step
		advance   time.Duration // before the last step
	}{
		{name: "Form_OneMessage", sceneType: 1, steps: func(id string) []step {
			return []step{{templateFields("user-a", "", "tpl-order", id, "1"), 0}, {templateFields("user-a", "", "tpl-order", id, "1"), 4003}}
		}},
		{name: "Payment_ThreeMessages", sceneType: 3, steps: func(id string) []step {
			s := step{templateFields("user-a", "", "tpl-order", id, "3"), 0}
			return []step{s, s, s, {s.fields, 4004}}
		}},
		{name: "ErrScene_OtherUser", sceneType: 1, steps: func(id string) []step {
			return []step{{templateFields("user-b", "", "tpl-order", id, "1"), 4004}}
		}},
		{name: "ErrScene_Unknown", sceneType: 1, steps: func(string) []step {
			return []step{{templateFields("user-a", "", "tpl-order", "no-such-scene1", "1"), 4004}}
		}},
		{name: "ErrScene_OtherType", sceneType: 2, steps: func(id string) []step {
			return []step{{templateFields("user-a", "", "tpl-order", id, "1"), 4004}}
		}},
		{name: "Guest_SentWithTouser", sceneType: 1, guest: true, steps: func(id string) []step {
			return []step{{templateFields("", "user-a", "tpl-order", id, "1"), 0}}
		}},
		{name: "ErrScene_GuestSentWithOpenID", sceneType: 1, guest: true, steps: func(id string) []step {
			return []step{{templateFields("user-a", "", "tpl-order", id, "1"), 4004}}
		}},
		{name: "ErrForm_Expired", sceneType: 1, advance: 7*24*time.Hour + time.Second, steps: func(id string) []step {
			return []step{{templateFields("user-a", "", "tpl-order", id, "1"), 4003}}
		}},
		{name: "ErrTemplateID", sceneType: 1, steps: func(id string) []step {
			return []step{{templateFields("user-a", "", "tpl-nope", id, "1"), 4001}}
		}},
		{name: "ErrParam_NoRecipient", sceneType: 1, steps: func(id string) []step {
			return []step{{templateFields("", "", "tpl-order", id, "1"), 2002}}
		}},
		{name: "ErrParam_SceneType", sceneType: 1, steps: func(id string) []step {
			return []step{{templateFields("user-a", "", "tpl-order", id, "4"), 2002}}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newMsgFixture(t, msgConfig, nil)
			sc, err := f.s.NewScene(t.Context(), "3001", "user-a", c.sceneType, c.guest)
			if err != nil {
				t.Fatal(err)
			}
			if last := sc.ID[len(sc.ID)-1]; (last == '0') != c.guest {
				t.Errorf("scene id %q ends in %c for guest %v", sc.ID, last, c.guest)
			}
			steps := c.steps(sc.ID)
			for i, st := range steps {
				if i == len(steps)-1 {
					f.now = f.now.Add(c.advance)
				}
				build := goForm
				if i%2 == 1 {
					build = phpForm
				}
				if a := f.do(build(smartappmock.TemplateSendPath, "tok-3001", st.fields)); a.errno() != st.want {
					t.Fatalf("step %d: %s (reason %q), want errno %d", i, a.raw, a.reason, st.want)
				}
			}
		})
	}
}

// TestPastTheWindow_SubscribeMessage: a user writes, the app replies inside the window; 49 hours
// later the reply answers 90001; the user consents, and the app reaches them with a subscribe
// message, exactly once per consent.
func TestPastTheWindow_SubscribeMessage(t *testing.T) {
	t.Parallel()
	f := newMsgFixture(t, msgConfig, nil)
	ctx := t.Context()
	reply := func() int {
		return f.do(goForm(smartappmock.SendPath, "tok-3001", [][2]string{{"user_type", "1"}, {"open_id", "user-a"}, {"msg_type", "text"},
			{"content", "您好"}, {"pic_url", ""}})).errno()
	}
	subscribe := func() int {
		return f.do(goForm(smartappmock.SubscribeSendPath, "tok-3001", subscribeFields("user-a", "tpl-order", "sub-1", orderData))).errno()
	}
	if _, err := f.s.UserWrites(ctx, mockserver.UserWrite{App: "3001", OpenID: "user-a"}); err != nil {
		t.Fatal(err)
	}
	if got := reply(); got != 0 {
		t.Fatalf("reply inside the window: errno %d", got)
	}
	if _, err := f.s.Store().UpdateApp(ctx, "3001", nil, 49*time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := reply(); got != smartappmock.ErrnoQuotaExceeded {
		t.Fatalf("reply 49 hours later: errno %d, want 90001", got)
	}
	if got := subscribe(); got != smartappmock.ErrnoNotSubscribed {
		t.Fatalf("subscribe message before any consent: errno %d, want 4007", got)
	}
	f.consent("3001", "user-a", "tpl-order", "sub-1")
	f.consent("3001", "user-a", "tpl-order", "sub-1")
	if got := subscribe(); got != 0 {
		t.Fatalf("subscribe message after consenting: errno %d, want 0", got)
	}
	if got := subscribe(); got != smartappmock.ErrnoNotSubscribed {
		t.Fatalf("a second subscribe message on one consent (given twice): errno %d, want 4007", got)
	}
}

// TestSubscribeSend_Faults: a magic touser_openId fault_<kind> delivers the answer through the
// fault, and a fault plan of the configuration picks subscribe sends as it picks sends; the
// journal records the status the client got.
func TestSubscribeSend_Faults(t *testing.T) {
	t.Parallel()
	yaml := strings.Replace(msgConfig, "profile: baidu", "profile: sandbox\n  magic_values: true", 1) +
		"faults:\n  - {kind: truncated, match: {open_id: user-a}}\n"
	f := newMsgFixture(t, yaml, nil)
	w := httptest.NewRecorder()
	f.s.ServeHTTP(w, goForm(smartappmock.SubscribeSendPath, "tok-3001", subscribeFields("fault_http_503", "tpl-order", "s", orderData)))
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("magic fault_http_503: status %d %s", w.Code, w.Body)
	}
	f.consent("3001", "user-a", "tpl-order", "sub-1")
	w = httptest.NewRecorder()
	f.s.ServeHTTP(w, goForm(smartappmock.SubscribeSendPath, "tok-3001", subscribeFields("user-a", "tpl-order", "sub-1", orderData)))
	if body := w.Body.String(); !strings.HasPrefix(`{"errno":0,"msg":"success","data":{"msg_key":1}}`, body) || len(body) == 0 || strings.HasSuffix(body, "}}") {
		t.Fatalf("truncated fault: body %q, want a cut success with its msg_key", body)
	}
	es, err := f.s.Store().Journal(t.Context(), store.Query{App: "3001", Endpoint: "subscribe_send"})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].FaultKind != "truncated" || es[0].Code != 0 || es[1].Status != http.StatusServiceUnavailable {
		t.Fatalf("journal: %+v", es)
	}
}
