package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/internal/testenv"
)

// The browser tests drive headless Chromium (Debian's chromium package; .ci/setup.d/50-chromium.sh
// installs it). Without Chromium they skip, except in CI (CI=true), where they fail.
// SMARTAPPMOCK_CHROMIUM names another binary. SMARTAPPMOCK_UPDATE_SCREENSHOT=1 rewrites the
// README's screenshot, docs/inbox.png.

func inboxChromium(t testing.TB) string {
	t.Helper()
	testenv.SkipIfShort(t, "starts Chromium")
	path := os.Getenv("SMARTAPPMOCK_CHROMIUM")
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		// Skips with one line, recorded for the package's testenv line; fails under CI=true.
		testenv.Missing(t, "needs chromium (apt-get install chromium, or set SMARTAPPMOCK_CHROMIUM)")
	}
	return path
}

// newInboxBrowser starts a headless Chromium with a fresh profile that stays off the network, and
// returns a tab context that ends with the test (before the servers close).
func newInboxBrowser(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(inboxChromium(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers have a small /dev/shm
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	// The browser lives as long as the context of the first Run: no timeout there.
	if err := chromedp.Do(tab); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("starting Chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(tab, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// inboxImages serves one PNG at /cat.png and 404 for everything else: image messages whose
// pic_url loads and whose does not, both on loopback.
func inboxImages(t testing.TB) *httptest.Server {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 160, 110))
	for y := range 110 {
		for x := range 160 {
			img.Set(x, y, color.RGBA{uint8(60 + x/2), uint8(120 + y/2), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cat.png" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(buf.Bytes())
	}))
	t.Cleanup(hs.Close)
	return hs
}

// inboxRow is a thread entry as the page shows it.
type inboxRow struct {
	Kind string `json:"kind"`
	Code string `json:"code"`
	// Status is the status line: "✓ errno 0 success", "✗ errno 90001 <Baidu's message>".
	Status string `json:"status"`
	Text   string `json:"text"`
	Who    string `json:"who"`
}

const inboxRowsJS = `[...document.querySelectorAll('#thread > li.entry')].map(li => ({
	kind: li.dataset.kind, code: li.dataset.code,
	status: [...li.querySelectorAll('.status > span')].map(s => s.textContent).join(' '),
	text: (li.querySelector('.bubble .text') || li.querySelector('figcaption') || {textContent: ''}).textContent,
	who: (li.querySelector('.meta .who') || {textContent: ''}).textContent,
}))`

func inboxStatus(t testing.TB, f *inboxFake, a inboxAnswer) string {
	t.Helper()
	cat := f.srv.Core.Spec().Catalogue()
	mark, name, msg := "✗", "errno", ""
	if a.Layer == "gateway" {
		name = "error_code"
		msg, _ = cat.GatewayMessage(a.Code)
	} else {
		msg, _ = cat.BusinessMessage(a.Code)
	}
	if a.Layer == "business" && a.Code == 0 {
		mark = "✓"
	}
	return fmt.Sprintf("%s %s %d %s", mark, name, a.Code, msg)
}

// TestInboxBrowser drives the inbox in Chromium: the thread shows what a real HTTP client sent,
// in order, with the codes the client got; a new send appears without a reload; the admin
// buttons change the window; a <script> in a message stays text; images load or show a
// placeholder. It also renders the README's screenshot.
func TestInboxBrowser(t *testing.T) {
	f := newInboxFake(t, "s3cret")
	imgs := inboxImages(t)
	ctx := newInboxBrowser(t, 90*time.Second)

	const script = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`
	goodPic := imgs.URL + "/cat.png"
	brokenPic := imgs.URL + "/missing.png"
	sends := []struct {
		form url.Values
		kind string
		text string
		who  string
	}{
		{inboxText("user-a", "你好，世界！👋 您的订单已发货 📦"), "text", "你好，世界！👋 您的订单已发货 📦", "user-a"},
		{inboxImage("user-a", goodPic), "image", goodPic, "user-a"},
		{inboxImage("user-a", ""), "image", "", "user-a"},
		{inboxImage("user-a", brokenPic), "image", brokenPic, "user-a"},
		{inboxText("user-a", script), "text", script, "user-a"},
		{inboxText("errno_30022", "hello from another mini program"), "text", "hello from another mini program", "errno_30022"},
		{inboxText("user-gw", "请稍后再试"), "text", "请稍后再试", "user-gw"},
		{inboxText("user-a", "第五条回复"), "text", "第五条回复", "user-a"},
		{inboxText("user-a", "第六条：窗口已用完"), "text", "第六条：窗口已用完", "user-a"},
	}
	var want []inboxRow
	for _, s := range sends {
		a := f.send("tok-a", s.form)
		code := fmt.Sprint(a.Code)
		want = append(want, inboxRow{Kind: s.kind, Code: code, Status: inboxStatus(t, f, a), Text: s.text, Who: s.who})
	}
	// The sends were chosen to give these outcomes; if the fake changed, the test would no longer
	// show failures in the thread.
	gotCodes := []string{}
	for _, w := range want {
		gotCodes = append(gotCodes, w.Code)
	}
	if diff := cmp.Diff([]string{"0", "0", "3001", "0", "0", "30022", "18", "0", "90001"}, gotCodes); diff != "" {
		t.Fatalf("precondition: the fake's answers changed (-want +got):\n%s", diff)
	}

	t.Run("LoginThenThreadInOrder", func(t *testing.T) {
		ctx := inboxStep(t, ctx)
		err := chromedp.Do(ctx,
			chromedp.Navigate(f.http.URL+"/__admin/ui?app=1001"),
			chromedp.WaitVisible(chromedp.ID("token")),
		)
		if err != nil {
			t.Fatalf("opening the inbox: %v", err)
		}
		if loc := inboxRun(t, ctx, chromedp.Location()); !strings.Contains(loc, "/__admin/ui/login") {
			t.Fatalf("without the token the inbox opened at %s; want the login form", loc)
		}
		err = chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.ID("token"), "s3cret"+kb.Enter),
			chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)),
		)
		if err != nil {
			t.Fatalf("logging in: %v", err)
		}
		if diff := cmp.Diff(f.http.URL+"/__admin/ui?app=1001", inboxRun(t, ctx, chromedp.Location())); diff != "" {
			t.Errorf("after login, location mismatch (-want +got):\n%s", diff)
		}
		rows := inboxRun(t, ctx, chromedp.Evaluate[[]inboxRow](inboxRowsJS))
		if diff := cmp.Diff(want, rows); diff != "" {
			t.Errorf("thread mismatch (-want +got):\n%s", diff)
		}
		// The raw journal link gives the same entries as the thread shows.
		shown := inboxRun(t, ctx, chromedp.Evaluate[[]int](`[...document.querySelectorAll('#thread > li.entry')].map(li => Number(li.dataset.seq))`))
		raw := inboxRun(t, ctx, chromedp.Evaluate[[]int](`fetch(document.getElementById('raw').href)
			.then(r => r.json()).then(j => j.requests.map(e => e.seq).reverse())`, chromedp.EvalAwaitPromise))
		if diff := cmp.Diff(shown, raw); diff != "" {
			t.Errorf("raw journal link mismatch (-shown +linked):\n%s", diff)
		}
	})

	t.Run("ScriptPayloadIsInert", func(t *testing.T) {
		ctx := inboxStep(t, ctx)
		type inert struct {
			Pwned    bool   `json:"pwned"`
			Scripts  int    `json:"scripts"`
			Injected int    `json:"injected"`
			Text     string `json:"text"`
		}
		got := inboxRun(t, ctx, chromedp.Evaluate[inert](`({
			pwned: window.__pwned !== undefined,
			scripts: document.querySelectorAll('#thread script').length,
			injected: document.querySelectorAll('#thread img:not([src^="http"])').length,
			text: [...document.querySelectorAll('#thread .text')].map(p => p.textContent).find(s => s.includes('__pwned')) || '',
		})`))
		if got.Pwned || got.Scripts != 0 || got.Injected != 0 {
			t.Errorf("the <script> payload became markup: ran=%v, script elements=%d, injected images=%d", got.Pwned, got.Scripts, got.Injected)
		}
		if diff := cmp.Diff(script, got.Text); diff != "" {
			t.Errorf("the payload is not shown as text (-want +got):\n%s", diff)
		}
	})

	t.Run("ImagesLoadOrShowAPlaceholder", func(t *testing.T) {
		ctx := inboxStep(t, ctx)
		got := inboxRun(t, ctx, chromedp.Poll[[]string](`(() => {
			const states = [...document.querySelectorAll('#thread figure.pic')].map(f => {
				const img = f.querySelector('img');
				if (f.classList.contains('failed')) return 'placeholder: ' + f.querySelector('.pic-failed').textContent;
				if (img && img.complete && img.naturalWidth > 0) return 'loaded ' + img.naturalWidth + 'x' + img.naturalHeight;
				return null;
			});
			return states.includes(null) ? false : states;
		})()`, chromedp.WithPollingTimeout(20*time.Second)))
		wantImgs := []string{"loaded 160x110", "placeholder: no pic_url", "placeholder: image did not load"}
		if diff := cmp.Diff(wantImgs, got); diff != "" {
			t.Errorf("images mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("LiveUpdateWithoutReload", func(t *testing.T) {
		ctx := inboxStep(t, ctx)
		n := inboxRun(t, ctx, chromedp.Evaluate[int](`window.__samePage = 'yes'; document.querySelectorAll('#thread > li.entry').length`))
		a := f.send("tok-a", inboxText("user-live", "实时消息 arrives live ✅"))
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#thread > li.entry:nth-child(%d)`, n+1)))); err != nil {
			t.Fatalf("waiting for the live entry: %v", err)
		}
		rows := inboxRun(t, ctx, chromedp.Evaluate[[]inboxRow](inboxRowsJS))
		wantLast := inboxRow{Kind: "text", Code: fmt.Sprint(a.Code), Status: inboxStatus(t, f, a), Text: "实时消息 arrives live ✅", Who: "user-live"}
		if diff := cmp.Diff(wantLast, rows[len(rows)-1]); diff != "" {
			t.Errorf("live entry mismatch (-want +got):\n%s", diff)
		}
		if same := inboxRun(t, ctx, chromedp.Evaluate[string](`window.__samePage || 'reloaded'`)); same != "yes" {
			t.Errorf("the page reloaded to show the new entry")
		}
	})

	t.Run("AdminButtonsChangeTheWindow", func(t *testing.T) {
		ctx := inboxStep(t, ctx)
		userWindow := `(() => { const a = [...document.querySelectorAll('#users li a')].find(a => a.textContent === 'user-a');
			return a ? a.parentElement.querySelector('.win').textContent : ''; })()`
		before := inboxRun(t, ctx, chromedp.Evaluate[string](userWindow))
		// "User sent a message", by keyboard: type the open_id, press Enter.
		err := chromedp.Do(ctx,
			chromedp.Clear(chromedp.ID("act-open-id")),
			chromedp.SendKeys(chromedp.ID("act-open-id"), "user-a"+kb.Enter),
		)
		if err != nil {
			t.Fatal(err)
		}
		afterMessage := inboxRun(t, ctx, chromedp.Poll[string](userWindow+`.startsWith('5 of 5') && `+userWindow, chromedp.WithPollingTimeout(10*time.Second)))
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#act-clock button"))); err != nil {
			t.Fatal(err)
		}
		afterClock := inboxRun(t, ctx, chromedp.Poll[string](userWindow+`.includes('47h00m') && `+userWindow, chromedp.WithPollingTimeout(10*time.Second)))
		got := []string{before, afterMessage, afterClock}
		wantWin := []string{"0 of 5 replies left, 48h00m left", "5 of 5 replies left, 48h00m left", "5 of 5 replies left, 47h00m left"}
		if diff := cmp.Diff(wantWin, got); diff != "" {
			t.Errorf("window after the buttons mismatch (-want +got):\n%s", diff)
		}
		// The server agrees: a send to user-a now succeeds.
		if a := f.send("tok-a", inboxText("user-a", "after the user wrote again")); a != (inboxAnswer{"business", 0}) {
			t.Errorf("send after 'User sent a message' = %+v; want errno 0", a)
		}
	})

	t.Run("LoadOlderPages", func(t *testing.T) {
		ctx := inboxStep(t, ctx)
		seqs := `[...document.querySelectorAll('#thread > li.entry')].map(li => Number(li.dataset.seq))`
		err := chromedp.Do(ctx,
			chromedp.Navigate(f.http.URL+"/__admin/ui?app=1001&limit=4"),
			chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		first := inboxRun(t, ctx, chromedp.Evaluate[[]int](seqs))
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("older"))); err != nil {
			t.Fatal(err)
		}
		both := inboxRun(t, ctx, chromedp.Poll[[]int](seqs+`.length > 4 && `+seqs, chromedp.WithPollingTimeout(10*time.Second)))
		res, body := f.get(noRedirects(nil), "/__admin/requests?app=1001&limit=8", "s3cret")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("journal: %d", res.StatusCode)
		}
		var journal struct {
			Requests []struct{ Seq int }
		}
		if err := json.Unmarshal([]byte(body), &journal); err != nil {
			t.Fatal(err)
		}
		var want []int
		for i := len(journal.Requests) - 1; i >= 0; i-- {
			want = append(want, journal.Requests[i].Seq)
		}
		if diff := cmp.Diff(want[4:], first); diff != "" {
			t.Errorf("first page mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, both); diff != "" {
			t.Errorf("after Load older mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("ConsentAndSubscribeMessageShowLive", func(t *testing.T) {
		ctx := inboxStep(t, ctx)
		err := chromedp.Do(ctx,
			chromedp.Navigate(f.http.URL+"/__admin/ui?app=1001"),
			chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"][data-live="1"]`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		n := inboxRun(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#thread > li.entry').length`))
		post := func(path, contentType, body, bearer string) {
			req, _ := http.NewRequest(http.MethodPost, f.http.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			res, err := f.http.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
		}
		post("/__admin/apps/1001/users/user-a/subscriptions", "application/json", `{"template_id":"tpl-1","subscribe_id":"shipped"}`, "s3cret")
		post(smartappmock.SubscribeSendPath+"?access_token=tok-a", "application/x-www-form-urlencoded",
			url.Values{"template_id": {"tpl-1"}, "touser_openId": {"user-a"}, "subscribe_id": {"shipped"}, "data": {`{"k":{"value":"已发货"}}`}}.Encode(), "")
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#thread > li.entry:nth-child(%d)`, n+2)))); err != nil {
			t.Fatalf("waiting for the live entries: %v", err)
		}
		got := inboxRun(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#thread > li.entry')].slice(-2).map(li =>
			li.dataset.kind + ' | ' + li.querySelector('.bubble').textContent + ' | ' + li.querySelector('.detail').textContent + ' | ' + li.querySelector('.code').textContent)`))
		want := []string{
			`subscription | consent to a subscribe message | the user consented to one message of template "tpl-1" under subscribe_id "shipped" | ✓ errno 0`,
			`subscribe_send | POST /rest/2.0/smartapp/template/message/subscribe/send | subscribe message: template tpl-1, subscribe_id shipped, data {"k":{"value":"已发货"}} | ✓ errno 0`,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("consent and subscribe message rows mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("Screenshot", func(t *testing.T) {
		ctx := inboxStep(t, ctx)
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(1280, 1300),
			chromedp.Navigate(f.http.URL+"/__admin/ui?app=1001&open_id=user-a"),
			chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"][data-live="1"]`)),
			chromedp.Poll[chromedp.Void](`[...document.images].every(i => i.complete) || undefined`, chromedp.WithPollingTimeout(10*time.Second)),
			chromedp.Sleep(1500*time.Millisecond), // let the highlight of new entries fade
		)
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		shot := inboxRun(t, ctx, chromedp.CaptureScreenshot())
		if _, err := png.DecodeConfig(bytes.NewReader(shot)); err != nil {
			t.Fatalf("screenshot is not a PNG: %v", err)
		}
		path := filepath.Join(t.TempDir(), "inbox.png")
		if os.Getenv("SMARTAPPMOCK_UPDATE_SCREENSHOT") == "1" {
			path = filepath.Join("..", "..", "docs", "inbox.png")
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s (%d bytes)", path, len(shot))
	})

	t.Run("PageLeavesNoTraceInTheJournal", func(t *testing.T) {
		// Everything the browser fetched (page, assets, feeds, an icon it might look for) stays out
		// of the journal: only the sends above are there.
		res, body := f.get(noRedirects(nil), "/__admin/requests?limit=0", "s3cret")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("journal: %d %s", res.StatusCode, body)
		}
		if strings.Contains(body, `"endpoint": "unknown"`) {
			t.Errorf("the inbox's own requests reached the journal:\n%s", body)
		}
	})

	t.Run("ResetClearsTheThread", func(t *testing.T) {
		ctx := inboxStep(t, ctx)
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.ID("act-reset")),
			chromedp.WaitVisible(chromedp.ID("empty")),
		)
		if err != nil {
			t.Fatalf("reset: %v", err)
		}
		if n := inboxRun(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#thread > li.entry').length`)); n != 0 {
			t.Errorf("after reset the thread shows %d entries; want none", n)
		}
	})
}

// inboxStep bounds one subtest's browser steps, so that a missing element fails it in 20s rather
// than at the end of the whole test.
func inboxStep(t testing.TB, ctx context.Context) context.Context {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// inboxRun runs one browser action and fails the test on error.
func inboxRun[T any](t testing.TB, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}

// TestInboxBrowser_Renders5000 loads a thread of 5,000 entries in one page and reports what it
// took (logged, not asserted: speed belongs in benchmarks), with the page's weight.
func TestInboxBrowser_Renders5000(t *testing.T) {
	f := newInboxFake(t, "")
	imgs := inboxImages(t)
	ctx := newInboxBrowser(t, 120*time.Second)
	const n = 5000
	for i := range n {
		form := inboxText(fmt.Sprintf("user-%03d", i%200), fmt.Sprintf("消息 %d: order %d shipped 📦", i, i))
		if i%10 == 3 {
			form = inboxImage(fmt.Sprintf("user-%03d", i%200), imgs.URL+"/cat.png")
		}
		req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=tok-a", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		f.srv.ServeHTTP(httptest.NewRecorder(), req)
	}
	type renderStats struct {
		FetchMs       float64 `json:"fetchMs"`
		FirstScreenMs float64 `json:"firstScreenMs"`
		RenderMs      float64 `json:"renderMs"`
		ReadyMs       float64 `json:"readyMs"`
		Rows          int     `json:"rows"`
		InOrder       bool    `json:"inOrder"`
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/__admin/ui?app=1001&limit=%d", f.http.URL, n)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)),
	)
	if err != nil {
		t.Fatalf("loading 5,000 entries: %v", err)
	}
	stats := inboxRun(t, ctx, chromedp.Evaluate[renderStats](`(() => {
		const seqs = [...document.querySelectorAll('#thread > li.entry')].map(li => Number(li.dataset.seq));
		return {...window.inboxStats, rows: seqs.length, inOrder: seqs.every((s, i) => i === 0 || seqs[i-1] < s)};
	})()`))
	if stats.Rows != n || !stats.InOrder {
		t.Fatalf("the thread shows %d entries (in order: %v); want %d in order", stats.Rows, stats.InOrder, n)
	}
	weight := 0
	for _, p := range []string{"/__admin/ui?app=1001", "/__admin/ui/assets/inbox.js", "/__admin/ui/assets/inbox.css"} {
		res, body := f.get(noRedirects(nil), p, "")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", p, res.StatusCode)
		}
		dump, _ := httputil.DumpResponse(res, false)
		t.Logf("page weight: %s: %d bytes body (+%d header)", p, len(body), len(dump))
		weight += len(body)
	}
	t.Logf("page weight: %d bytes (HTML + JS + CSS, uncompressed, before data)", weight)
	t.Logf("5,000 entries: feed fetch %.0f ms; first screen (newest %d) rendered %.0f ms after the data; all rendered %.0f ms after the data; page ready %.0f ms after navigation start",
		stats.FetchMs, 400, stats.FirstScreenMs, stats.RenderMs, stats.ReadyMs)
}
