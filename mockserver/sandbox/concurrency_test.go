package sandbox

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// TestConcurrentSendsOneWindow is the exactness check of the window: 100 concurrent sends to one
// open_id in a fresh window give exactly 5 successes and 95 errno 90001, and the journal holds all
// 100, over a real HTTP server.
func TestConcurrentSendsOneWindow(t *testing.T) {
	t.Parallel()
	f := setup(t, "")
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	f.admin(http.MethodPost, "/__admin/apps/1001/messages", `{"open_id":"crowd"}`, nil)

	const n = 100
	var wg sync.WaitGroup
	results := make([]string, n)
	for i := range n {
		wg.Go(func() {
			resp, err := ts.Client().Post(ts.URL+smartappmock.SendPath+"?access_token=static-token-a",
				"application/x-www-form-urlencoded", strings.NewReader(text("crowd", "hi").Encode()))
			if err != nil {
				results[i] = "transport error: " + err.Error()
				return
			}
			resp.Body.Close()
			results[i] = resp.Header.Get(smartappmock.HeaderOutcome)
		})
	}
	wg.Wait()
	counts := map[string]int{}
	for _, r := range results {
		counts[r]++
	}
	if counts["business 0"] != 5 || counts["business 90001"] != n-5 || len(counts) != 2 {
		t.Errorf("outcomes = %v, want 5 × business 0 and %d × business 90001", counts, n-5)
	}
	es := f.journal(store.Query{App: "1001", OpenID: "crowd"})
	if len(es) != n {
		t.Errorf("journal holds %d sends, want %d", len(es), n)
	}
	ids := map[string]bool{}
	for _, e := range es {
		ids[e.ID] = true
	}
	if len(ids) != n {
		t.Errorf("journal has %d distinct request ids, want %d", len(ids), n)
	}
}

// TestParallelAppsAreIsolated runs many apps at once: each sees exactly its own quota and journal.
func TestParallelAppsAreIsolated(t *testing.T) {
	t.Parallel()
	f := setup(t, "version: 1\npolicy: {apps: sandbox, tokens: sandbox, window: {mode: open_on_first_send}, journal_cap: 50}\n")
	const apps, sends = 20, 8
	var wg sync.WaitGroup
	okCount := make([]int, apps)
	for a := range apps {
		wg.Go(func() {
			token := "tenant-" + url.QueryEscape(itoa(a))
			for range sends {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token="+token, strings.NewReader(text("u", "hi").Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				f.srv.ServeHTTP(rec, req)
				if rec.Header().Get(smartappmock.HeaderOutcome) == "business 0" {
					okCount[a]++
				}
			}
		})
	}
	wg.Wait()
	for a, n := range okCount {
		if n != 5 {
			t.Errorf("app %d: %d successes, want 5", a, n)
		}
	}
	for a := range apps {
		id := mockserver.SandboxAppID("tenant-" + itoa(a))
		if got := len(f.journal(store.Query{App: id})); got != sends {
			t.Errorf("app %s journal holds %d, want %d", id, got, sends)
		}
	}
}

func TestJournalCapPerApp(t *testing.T) {
	t.Parallel()
	f := setup(t, "version: 1\npolicy: {tokens: sandbox, journal_cap: 3}\n")
	for range 5 {
		f.sendForm("one", text("u", "hi"))
	}
	f.sendForm("two", text("u", "hi"))
	app := mockserver.SandboxAppID("one")
	es := f.journal(store.Query{App: app})
	if len(es) != 3 || es[0].Seq != 5 || es[2].Seq != 3 {
		t.Errorf("capped journal = %d entries (seq %v), want the newest 3", len(es), seqs(es))
	}
	held, dropped, _ := f.srv.Core.Store().JournalStats(t.Context(), app)
	if held != 3 || dropped != 2 {
		t.Errorf("stats = held %d dropped %d, want 3 and 2", held, dropped)
	}
	if got := len(f.journal(store.Query{})); got != 4 {
		t.Errorf("all apps: %d entries, want 4", got)
	}
}

func seqs(es []store.Entry) []uint64 {
	out := make([]uint64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}
