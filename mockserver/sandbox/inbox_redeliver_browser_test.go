package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/smartappmock/smartappmock/baidupush"
)

// TestInboxBrowser_DeliveryLogAndRedeliver: the inbox shows each attempt of a push with its
// verdict and its request bytes, and the user's message's Redeliver button sends the push again:
// the bot receives the same MsgId with the same body, and the new attempt appears live, marked as
// a redelivery.
func TestInboxBrowser_DeliveryLogAndRedeliver(t *testing.T) {
	f := newInboxFake(t, "")
	var mu sync.Mutex
	var bodies []string
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := r.URL.Query().Get(baidupush.ParamEchoStr); e != "" {
			_, _ = io.WriteString(w, e)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(bot.Close)
	do := func(method, path, body string) []byte {
		t.Helper()
		res, err := f.http.Client().Do(mustRequest(t, method, f.http.URL+path, body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: HTTP %d %s", method, path, res.StatusCode, b)
		}
		return b
	}
	do(http.MethodPut, "/__admin/apps/1001/push", `{"url":"`+bot.URL+`","token":"inbox-bot-token","format":"json"}`)
	var wrote struct {
		Results []struct {
			MsgID int64 `json:"msg_id"`
		} `json:"results"`
	}
	if err := json.Unmarshal(do(http.MethodPost, "/__admin/apps/1001/users/user-r/messages", `{"msg_type":"text","content":"again please"}`), &wrote); err != nil || len(wrote.Results) != 1 {
		t.Fatalf("user writes: %v %+v", err, wrote)
	}

	ctx := newInboxBrowser(t, 90*time.Second)
	err := chromedp.Do(ctx,
		chromedp.Navigate(f.http.URL+"/__admin/ui?app=1001&open_id=user-r"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"][data-live="1"]`)),
		chromedp.WaitVisible(chromedp.CSS(`li.entry.conv.user button.redeliver`)),
	)
	if err != nil {
		t.Fatalf("opening the inbox: %v", err)
	}
	first := inboxRun(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('li.entry.conv.attempt')].map(li => li.dataset.verdict + '|' + li.querySelector('details.request pre.body').textContent)`))
	if len(first) != 1 || first[0] != "acknowledged|"+bodies[0] {
		t.Fatalf("attempt rows %q; want one, acknowledged, showing the body the bot received %q", first, bodies[0])
	}
	err = chromedp.Do(inboxStep(t, ctx),
		chromedp.Click(chromedp.CSS(`li.entry.conv.user button.redeliver`)),
		chromedp.WaitVisible(chromedp.CSS(`li.entry.conv.attempt[data-redelivery="1"]`)),
	)
	if err != nil {
		t.Fatalf("redelivering from the inbox: %v", err)
	}
	got := inboxRun(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('li.entry.conv.attempt')].map(li => li.querySelector('.verdict').textContent + '|' + li.querySelector('details.request pre.body').textContent)`))
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 || bodies[0] != bodies[1] {
		t.Fatalf("the bot received %q; want the same push twice, byte for byte", bodies)
	}
	if len(got) != 2 || got[1] != "acknowledged · delivery 2 · redelivery|"+bodies[1] {
		t.Errorf("attempt rows after Redeliver %q; want the redelivery, acknowledged, with the bytes the bot received", got)
	}
	status := inboxRun(t, ctx, chromedp.Evaluate[string](`document.querySelector('li.entry.conv.user .push-actions output').textContent`))
	if !strings.Contains(status, "redelivery") {
		t.Errorf("Redeliver's status %q; want the summary of the redelivery", status)
	}
}
