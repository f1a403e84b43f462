package sandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// TestInboxEntries_FaultAndWarnings: the inbox marks a message with its warnings and shows the
// fault with its phase; a message a before-phase fault stopped is not shown as delivered.
func TestInboxEntries_FaultAndWarnings(t *testing.T) {
	t.Parallel()
	f := newInboxFake(t, "")
	warn := mockserver.WarnOpenOnFirstSend.Warning()
	base := store.Entry{App: "1001", Endpoint: "send", Method: http.MethodPost, Path: smartappmock.SendPath,
		OpenID: "user-a", MsgType: "text", Layer: smartappmock.LayerBusiness, Code: 0, Status: 200, Params: []store.Param{}}
	entries := []store.Entry{base, base, base}
	entries[0].Fault, entries[0].FaultKind, entries[0].FaultPhase, entries[0].Status = "http_503 (faults[0])", "http_503", "before", 503
	entries[1].Fault, entries[1].FaultKind, entries[1].FaultPhase = "truncated (faults[1])", "truncated", "after"
	entries[2].Warnings = []store.Warning{warn}
	for _, e := range entries {
		if _, err := f.srv.Core.Store().Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	res, body := f.get(noRedirects(nil), "/__admin/ui/api/entries?app=1001", f.token)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("entries: %d %s", res.StatusCode, body)
	}
	type item struct {
		OK         bool            `json:"ok"`
		Fault      string          `json:"fault"`
		FaultPhase string          `json:"fault_phase"`
		Warnings   []store.Warning `json:"warnings"`
	}
	var out struct{ Entries []item }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	want := []item{
		{OK: false, Fault: "http_503 (faults[0])", FaultPhase: "before"},
		{OK: true, Fault: "truncated (faults[1])", FaultPhase: "after"},
		{OK: true, Warnings: []store.Warning{warn}},
	}
	if diff := cmp.Diff(want, out.Entries); diff != "" {
		t.Errorf("inbox items mismatch (-want +got):\n%s", diff)
	}
}

// TestInboxBrowser_WarningsAndFaults: in the page, a warned message lists its warnings' kinds and
// the panel above the thread each sentence once per app with a count; a faulted one lists its
// fault and phase, and a send a before-phase fault stopped shows as failed.
func TestInboxBrowser_WarningsAndFaults(t *testing.T) {
	f := newInboxFake(t, "")
	ctx := newInboxBrowser(t, 60*time.Second)
	warn := mockserver.WarnOpenOnFirstSend.Warning()
	base := store.Entry{App: "1001", Endpoint: "send", Method: http.MethodPost, Path: smartappmock.SendPath,
		OpenID: "user-a", MsgType: "text", Layer: smartappmock.LayerBusiness, Code: 0, Status: 200, Params: []store.Param{}}
	entries := []store.Entry{base, base, base}
	entries[0].Fault, entries[0].FaultKind, entries[0].FaultPhase, entries[0].Status = "http_503 (faults[0])", "http_503", "before", 503
	entries[1].Fault, entries[1].FaultKind, entries[1].FaultPhase = "truncated (faults[1])", "truncated", "after"
	entries[2].Warnings = []store.Warning{warn}
	for _, e := range entries {
		if _, err := f.srv.Core.Store().Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(f.http.URL+"/__admin/ui?app=1001"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`))); err != nil {
		t.Fatalf("browser: %v", err)
	}
	type view struct {
		Warnings []string `json:"warnings"`
		Panel    []string `json:"panel"`
		Faults   []string `json:"faults"`
		Failed   int      `json:"failed"`
	}
	got := inboxRun(t, ctx, chromedp.Evaluate[view](`(() => ({
		warnings: [...document.querySelectorAll('#thread li.warned .warnings li')].map(li => li.textContent),
		panel: [...document.querySelectorAll('#warned li')].map(li => li.textContent),
		faults: [...document.querySelectorAll('#thread li.faulted .fault')].map(d => d.textContent),
		failed: document.querySelectorAll('#thread li.entry.fail').length,
	}))()`))
	want := view{
		Warnings: []string{"⚠ " + warn.Kind},
		Panel:    []string{"⚠ " + warn.Message + " (×1)"},
		Faults: []string{"⚡ fault http_503 (faults[0]) — before the service: not delivered, nothing counted",
			"⚡ fault truncated (faults[1]) — after the service: delivered and counted, the answer was lost"},
		Failed: 1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("page mismatch (-want +got):\n%s", diff)
	}
}
