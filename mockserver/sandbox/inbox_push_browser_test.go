package sandbox_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/baidupush"
)

// conversationBot is a bot for the inbox's conversation: it echoes the handshake, fails the first
// attempt of a message that says "flaky", acknowledges the others and replies "re: <content>"
// through the fake in the background.
func conversationBot(t *testing.T, f *inboxFake) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	tries := map[int64]int{}
	var wg sync.WaitGroup
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if e := r.URL.Query().Get(baidupush.ParamEchoStr); e != "" {
			_, _ = io.WriteString(w, e)
			return
		}
		o, err := baidupush.Open(baidupush.Config{Token: "inbox-bot-token", Format: baidupush.FormatJSON}, r.URL.Query(), body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		m := o.Message
		mu.Lock()
		tries[m.MsgID]++
		n := tries[m.MsgID]
		mu.Unlock()
		if m.Content == "flaky" && n == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		what := m.Content
		if m.MsgType == baidupush.MsgTypeImage {
			what = "a picture"
		}
		wg.Go(func() { f.send("tok-a", inboxText(m.FromUserName, "re: "+what)) })
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(func() { bot.Close(); wg.Wait() })
	return bot
}

// convRow is a thread entry of the conversation as the page shows it.
type convRow struct {
	Kind     string `json:"kind"`
	Delivery string `json:"delivery"`
	Text     string `json:"text"`
}

const convRowsJS = `[...document.querySelectorAll('#thread > li.entry')].map(li => ({
	kind: li.dataset.kind, delivery: li.dataset.delivery || '',
	text: (li.querySelector('.bubble .text') || li.querySelector('figcaption') || li.querySelector('.delivery') || {textContent: ''}).textContent,
}))`

// TestInboxBrowser_Conversation writes as the user from the inbox's composer: the user's
// messages appear on the left with their delivery to the bot, the bot's replies on the right,
// live; a push that needed a retry says so, and without a push configuration the message opens
// the window only.
func TestInboxBrowser_Conversation(t *testing.T) {
	f := newInboxFake(t, "")
	imgs := inboxImages(t)
	bot := conversationBot(t, f)
	res, err := f.http.Client().Do(mustRequest(t, http.MethodPut, f.http.URL+"/__admin/apps/1001/push",
		`{"url":"`+bot.URL+`","token":"inbox-bot-token","format":"json"}`))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("PUT push: %v %v", res.Status, err)
	}
	res.Body.Close()
	ctx := newInboxBrowser(t, 90*time.Second)
	err = chromedp.Do(ctx,
		chromedp.Navigate(f.http.URL+"/__admin/ui?app=1001&open_id=user-z"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"][data-live="1"]`)),
		chromedp.WaitVisible(chromedp.ID("composer")),
	)
	if err != nil {
		t.Fatalf("opening the inbox: %v", err)
	}
	write := func(t *testing.T, kind, text string) {
		t.Helper()
		n := inboxRun(t, ctx, chromedp.Evaluate[int](`Number(document.body.dataset.composed || 0)`))
		err := chromedp.Do(inboxStep(t, ctx),
			chromedp.SetValue(chromedp.ID("composer-type"), kind),
			chromedp.SetValue(chromedp.ID("composer-text"), text),
			chromedp.Click(chromedp.CSS(`#composer button[type="submit"]`)),
			chromedp.Poll[chromedp.Void](`Number(document.body.dataset.composed || 0) > `+strconv.Itoa(n)+` || undefined`, chromedp.WithPollingTimeout(10*time.Second)),
		)
		if err != nil {
			t.Fatalf("writing %q: %v", text, err)
		}
	}
	// rowsWhen polls until the thread has n entries and none is still pushing.
	rowsWhen := func(t *testing.T, n int) []convRow {
		t.Helper()
		cond := `(() => { const r = ` + convRowsJS + `; return r.length >= ` + strconv.Itoa(n) + ` && !r.some(x => x.delivery === 'pending' || x.delivery === 'retrying') ? r : undefined })()`
		return inboxRun(t, inboxStep(t, ctx), chromedp.Poll[[]convRow](cond, chromedp.WithPollingTimeout(10*time.Second)))
	}

	t.Run("TextDelivered_ReplyOnTheOtherSide", func(t *testing.T) {
		write(t, "text", "hello bot")
		got := rowsWhen(t, 3)
		want := []convRow{
			{"user_message", "delivered", "hello bot"},
			{"push", "", ""},
			{"text", "", "re: hello bot"},
		}
		// The reply may be journaled before the attempt it answers (the bot replies before the
		// fake has read its acknowledgement): the order of those two is free.
		if diff := cmp.Diff(want, got, byKind); diff != "" {
			t.Errorf("thread mismatch (-want +got):\n%s", diff)
		}
		sides := inboxRun(t, ctx, chromedp.Evaluate[[]float64](`[document.querySelector('li.entry.conv.user .bubble'), document.querySelector('li.entry.send .bubble')].map(b => b.getBoundingClientRect().left)`))
		if len(sides) != 2 || sides[0] >= sides[1] {
			t.Errorf("bubble left edges user %v vs reply: want the user's message on the left, the reply on the right", sides)
		}
	})
	t.Run("ImageLink_Delivered", func(t *testing.T) {
		write(t, "image", imgs.URL+"/cat.png")
		got := rowsWhen(t, 6)
		want := []convRow{{"user_message", "delivered", imgs.URL + "/cat.png"}, {"push", "", ""}, {"text", "", "re: a picture"}}
		if diff := cmp.Diff(want, got[3:], byKind); diff != "" {
			t.Errorf("thread mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("RetriedPush_SaysAfter2Attempts", func(t *testing.T) {
		write(t, "text", "flaky")
		got := rowsWhen(t, 10)
		delivery := inboxRun(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('li.entry.conv.user')].pop().querySelector('.delivery').textContent`))
		if got[6].Delivery != "delivered" || !strings.Contains(delivery, "after 2 attempts") {
			t.Errorf("retried push shown as %q (%q); want delivered after 2 attempts", got[6].Delivery, delivery)
		}
		attempts := inboxRun(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('li.entry.conv.attempt .line')].slice(-2).map(l => l.textContent.split(' MsgId')[0] + (l.textContent.includes('HTTP 503') ? ' 503' : ' 200'))`))
		if diff := cmp.Diff([]string{"✗ push attempt 1/3 503", "✓ push attempt 2/3 200"}, attempts); diff != "" {
			t.Errorf("attempt lines mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("NoPushConfig_WindowOnly", func(t *testing.T) {
		res, err := f.http.Client().Do(mustRequest(t, http.MethodDelete, f.http.URL+"/__admin/apps/1001/push", ""))
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("DELETE push: %v %v", res.Status, err)
		}
		res.Body.Close()
		write(t, "text", "anyone there?")
		got := rowsWhen(t, 11)
		if last := got[len(got)-1]; last.Kind != "user_message" || last.Delivery != "none" {
			t.Errorf("last row %+v; want a user_message not pushed", last)
		}
		status := inboxRun(t, ctx, chromedp.Evaluate[string](`document.getElementById('composer-status').textContent`))
		if !strings.Contains(status, "no push configuration") {
			t.Errorf("composer status %q; want it to say there is no push configuration", status)
		}
	})
}

// byKind sorts the rows after the first (the user's message) by kind.
var byKind = cmp.Transformer("byKind", func(rs []convRow) []convRow {
	out := slices.Clone(rs)
	if len(out) > 1 {
		slices.SortStableFunc(out[1:], func(a, b convRow) int { return strings.Compare(a.Kind, b.Kind) })
	}
	return out
})

func mustRequest(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
