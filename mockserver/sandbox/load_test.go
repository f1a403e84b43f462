package sandbox

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
)

// TestLoad_ManyAppsExactQuotas runs a bounded concurrent load over a real HTTP server: many
// goroutines, many apps, many users. Every window allows exactly MaxReplies replies however the
// sends interleave, the journal holds exactly one entry per request sent, the metrics agree, and
// no goroutine outlives the server.
func TestLoad_ManyAppsExactQuotas(t *testing.T) {
	// Not parallel: goleak compares against the goroutines present when the test starts.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const (
		apps         = 8
		usersPerApp  = 10
		sendsPerUser = 8
		workers      = 32
		maxReplies   = 5
	)
	var y strings.Builder
	y.WriteString("version: 1\npolicy: {apps: configured, tokens: issued, window: {mode: require_user_message, max_replies: 5}}\napps:\n")
	for a := range apps {
		fmt.Fprintf(&y, "  - {id: \"app%d\", client_id: c%d, client_secret: s%d, tokens: [tok%d], user_messages: [", a, a, a, a)
		for u := range usersPerApp {
			if u > 0 {
				y.WriteString(", ")
			}
			fmt.Fprintf(&y, "u%d", u)
		}
		y.WriteString("]}\n")
	}
	cfg, err := config.Parse("load.yaml", []byte(y.String()))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newSandbox(mockserver.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	client := ts.Client()

	type job struct{ app, user int }
	jobs := make(chan job)
	type result struct {
		app, user int
		outcome   string
	}
	results := make(chan result, apps*usersPerApp*sendsPerUser)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				body := text(fmt.Sprintf("u%d", j.user), "load").Encode()
				resp, err := client.Post(fmt.Sprintf("%s%s?access_token=tok%d", ts.URL, smartappmock.SendPath, j.app),
					"application/x-www-form-urlencoded", strings.NewReader(body))
				if err != nil {
					results <- result{j.app, j.user, "transport: " + err.Error()}
					continue
				}
				resp.Body.Close()
				results <- result{j.app, j.user, resp.Header.Get(smartappmock.HeaderOutcome)}
			}
		})
	}
	for range sendsPerUser {
		for a := range apps {
			for u := range usersPerApp {
				jobs <- job{a, u}
			}
		}
	}
	close(jobs)
	wg.Wait()
	close(results)
	client.CloseIdleConnections()
	ts.Close()

	type key struct{ app, user int }
	got := map[key]map[string]int{}
	sent := 0
	for r := range results {
		sent++
		k := key{r.app, r.user}
		if got[k] == nil {
			got[k] = map[string]int{}
		}
		got[k][r.outcome]++
	}
	want := map[key]map[string]int{}
	for a := range apps {
		for u := range usersPerApp {
			want[key{a, u}] = map[string]int{"business 0": maxReplies, "business 90001": sendsPerUser - maxReplies}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes per (app, user) (-want +got):\n%s", diff)
	}
	es, err := srv.Core.Store().Journal(context.Background(), store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != sent || sent != apps*usersPerApp*sendsPerUser {
		t.Errorf("journal holds %d entries for %d requests sent (want %d)", len(es), sent, apps*usersPerApp*sendsPerUser)
	}
	if st := srv.Core.Store().(*memstore.Store).Stats(); st.JournalEntries != sent {
		t.Errorf("store stats count %d journal entries, want %d", st.JournalEntries, sent)
	}
	ids := map[string]bool{}
	for _, e := range es {
		if ids[e.ID] {
			t.Errorf("request id %s used twice", e.ID)
		}
		ids[e.ID] = true
	}
}
