package sandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/mockserver/sandbox"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/redisstore"
	"github.com/smartappmock/smartappmock/store/redisstore/redistest"
)

// openHoldStore opens a Redis store on srv, closed when t ends.
func openHoldStore(t *testing.T, srv *redistest.Server, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := redisstore.Open(ctx, srv.URL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// rawRedis is a plain client of srv, for what the test reads or does beside the fake.
func rawRedis(t *testing.T, srv *redistest.Server) *redis.Client {
	t.Helper()
	o, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

// usedMemory is Redis's INFO memory used_memory.
func usedMemory(t *testing.T, c *redis.Client) int64 {
	t.Helper()
	info, err := c.Info(context.Background(), "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatalf("no used_memory in INFO memory:\n%s", info)
	return 0
}

// TestHold_StalledRedis_SendsFailFastAndRecover stops redis-server with SIGSTOP (it neither
// answers nor closes its connections): a send answers error_code 2 within the store deadline
// and a half, /__admin/ready and an admin route answer 503 with Retry-After; after SIGCONT the
// same replica answers sends again.
func TestHold_StalledRedis_SendsFailFastAndRecover(t *testing.T) {
	rs := redistest.Start(t)
	st := openHoldStore(t, rs, redisstore.Options{})
	sb, err := sandbox.New(mockserver.Options{Config: configtest.Parse(t, configtest.Strict), Store: st, StoreDeadline: time.Second}, admin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sb)
	t.Cleanup(hs.Close)
	if got := send(t, hs, "user-a"); got != "business 0" {
		t.Fatalf("send before the stall: %q, want business 0", got)
	}

	rs.Signal(syscall.SIGSTOP)
	stopped := true
	t.Cleanup(func() {
		if stopped {
			rs.Signal(syscall.SIGCONT)
		}
	})
	start := time.Now()
	res := sendReq(t, hs, "user-a")
	took := time.Since(start)
	if got := res.Header.Get(smartappmock.HeaderOutcome); got != "gateway 2" {
		t.Errorf("send while Redis is stopped: %q, want gateway 2", got)
	}
	if took > 1500*time.Millisecond {
		t.Errorf("send while Redis is stopped answered after %s, want within 1.5s", took)
	}
	t.Logf("send while Redis is stopped: %s after %s", res.Header.Get(smartappmock.HeaderOutcome), took)

	start = time.Now()
	ready, err := http.Get(hs.URL + "/__admin/ready")
	if err != nil {
		t.Fatal(err)
	}
	ready.Body.Close()
	readyTook := time.Since(start)
	if ready.StatusCode != http.StatusServiceUnavailable || ready.Header.Get("Retry-After") == "" {
		t.Errorf("ready while Redis is stopped: %d (Retry-After %q), want 503 with Retry-After", ready.StatusCode, ready.Header.Get("Retry-After"))
	}
	t.Logf("ready while Redis is stopped: %d after %s", ready.StatusCode, readyTook)
	apps, err := http.Get(hs.URL + "/__admin/apps")
	if err != nil {
		t.Fatal(err)
	}
	apps.Body.Close()
	if apps.StatusCode != http.StatusServiceUnavailable || apps.Header.Get("Retry-After") == "" {
		t.Errorf("GET /__admin/apps while Redis is stopped: %d (Retry-After %q), want 503 with Retry-After", apps.StatusCode, apps.Header.Get("Retry-After"))
	}

	rs.Signal(syscall.SIGCONT)
	stopped = false
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := send(t, hs, "user-a")
		if got == "business 0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("send after SIGCONT: still %q after 10s", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ready, err = http.Get(hs.URL + "/__admin/ready")
	if err != nil {
		t.Fatal(err)
	}
	ready.Body.Close()
	if ready.StatusCode != http.StatusOK {
		t.Errorf("ready after SIGCONT: %d, want 200", ready.StatusCode)
	}
}

// TestHold_RedisLostItsData_ConfiguredTokenNeverChargedToASandboxApp empties Redis under a
// running replica (as a Redis that restarted without its data): the next send with a configured
// token is decided after the configured state is seeded again, so it is charged to its app.
func TestHold_RedisLostItsData_ConfiguredTokenNeverChargedToASandboxApp(t *testing.T) {
	rs := redistest.Start(t)
	st := openHoldStore(t, rs, redisstore.Options{})
	cfg := configtest.Parse(t, strings.Replace(configtest.Strict, "tokens: issued", "tokens: sandbox", 1))
	sb, err := sandbox.New(mockserver.Options{Config: cfg, Store: st}, admin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sb)
	t.Cleanup(hs.Close)
	if err := rawRedis(t, rs).FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if got := send(t, hs, "user-a"); got != "business 0" {
		t.Errorf("send with a configured token after Redis lost its data: %q, want business 0", got)
	}
	var list admin.AppList
	adminCall(t, hs, http.MethodGet, "/__admin/apps", "", &list)
	for _, a := range list.Apps {
		if a.Source != "config" {
			t.Errorf("app %s (%s) after the send: a configured token was charged to a new app", a.ID, a.Source)
		}
	}
	var reqs admin.Requests
	adminCall(t, hs, http.MethodGet, "/__admin/requests?limit=1", "", &reqs)
	if len(reqs.Requests) != 1 || reqs.Requests[0].App != "1001" {
		t.Errorf("journal after the send: %+v, want one entry of app 1001", reqs.Requests)
	}
}

// TestHold_100kDistinctTokens_RedisMemoryAndAppListBounded sends with 100,000 distinct tokens
// (each a sandbox app of its own): Redis keeps at most MaxApps of them, so its memory stays
// bounded, and one page of the app list is as cheap as with few apps.
func TestHold_100kDistinctTokens_RedisMemoryAndAppListBounded(t *testing.T) {
	const tokens = 100_000
	rs := redistest.Start(t)
	raw := rawRedis(t, rs)
	st := openHoldStore(t, rs, redisstore.Options{})
	sb, err := sandbox.New(mockserver.Options{Store: st, StoreDeadline: 5 * time.Second}, admin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	before := usedMemory(t, raw)
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	const workers = 32
	for w := range workers {
		wg.Go(func() {
			seen := map[string]int{}
			for i := w; i < tokens; i += workers {
				form := url.Values{"user_type": {"1"}, "open_id": {"u"}, "msg_type": {"text"}, "content": {"hi"}}
				req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=tok-"+strconv.Itoa(i), strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				rec := httptest.NewRecorder()
				sb.ServeHTTP(rec, req)
				seen[rec.Header().Get(smartappmock.HeaderOutcome)]++
			}
			mu.Lock()
			for k, v := range seen {
				outcomes[k] += v
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	sendTook := time.Since(start)
	after := usedMemory(t, raw)
	if outcomes["business 0"] != tokens {
		t.Errorf("outcomes of %d sends with distinct tokens: %v, want every one business 0", tokens, outcomes)
	}
	apps, err := raw.ZCard(context.Background(), "smartappmock:{global}:apps").Result()
	if err != nil {
		t.Fatal(err)
	}
	configured := int64(len(sb.Core.Config().Apps))
	if apps > 4096+configured {
		t.Errorf("the registry holds %d apps after %d distinct tokens, want at most 4096 sandbox apps and the %d configured", apps, tokens, configured)
	}
	grew := after - before
	if grew > 64<<20 {
		t.Errorf("Redis's used_memory grew by %d MB for %d distinct tokens, want at most 64 MB", grew>>20, tokens)
	}
	t.Logf("%d sends with distinct tokens in %s; Redis used_memory %d -> %d bytes (+%.1f MB); %d apps held", tokens, sendTook, before, after, float64(grew)/(1<<20), apps)

	start = time.Now()
	rec := httptest.NewRecorder()
	sb.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/__admin/apps", nil))
	listTook := time.Since(start)
	var list admin.AppList
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET /__admin/apps: %d %v", rec.Code, err)
	}
	if len(list.Apps) != admin.DefaultAppPage || list.Next == "" {
		t.Errorf("GET /__admin/apps: %d apps, next %q; want a page of %d with a next cursor", len(list.Apps), list.Next, admin.DefaultAppPage)
	}
	t.Logf("GET /__admin/apps: %d apps, %d bytes in %s", len(list.Apps), rec.Body.Len(), listTook)

	rec = httptest.NewRecorder()
	sb.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/__admin/apps/no-such-app", nil))
	if rec.Code != http.StatusNotFound || rec.Body.Len() > 1024 {
		t.Errorf("GET /__admin/apps/no-such-app: %d with %d bytes, want a 404 of at most 1 KiB:\n%s", rec.Code, rec.Body.Len(), rec.Body.String())
	}
}

// holdConfig is one configured app with a fixed token, a window opened by the first send and
// room for every send of the load, and a journal that keeps them all.
const holdConfig = `
version: 1
policy:
  apps: configured
  tokens: issued
  window: {mode: open_on_first_send, duration: 48h, max_replies: 100000}
  journal_cap: 10000
apps:
  - id: "1001"
    client_id: key-a
    client_secret: secret-a
    tokens: [static-token-a]
`

// TestHold_GracefulRedisShutdownMidLoad_JournalAndWindowsAgreeWithClients shuts Redis down
// (SHUTDOWN SAVE: it answers what it ran, closes every connection and keeps its data) in the
// middle of a bounded load, and starts it again: once the replica has reconciled the sends
// whose answer was lost, every journal entry's code is the code its client received, and each
// user's window counts exactly the successes that user's client saw.
func TestHold_GracefulRedisShutdownMidLoad_JournalAndWindowsAgreeWithClients(t *testing.T) {
	const clients, sends, most = 16, 100, 5000
	rs := redistest.Start(t)
	raw := rawRedis(t, rs)
	st := openHoldStore(t, rs, redisstore.Options{JournalCap: 10000})
	sb, err := sandbox.New(mockserver.Options{Config: configtest.Parse(t, holdConfig), Store: st}, admin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type told struct{ outcome, user string }
	var mu sync.Mutex
	answers := map[string]told{} // request id -> what its client was told
	successes := map[string]int{}
	var wg sync.WaitGroup
	started := make(chan struct{})
	var once sync.Once
	var back atomic.Bool // Redis is running again
	for c := range clients {
		user := "user-" + strconv.Itoa(c)
		wg.Go(func() {
			// Bounded: the sends before the shutdown, then sends until 100 successes after Redis
			// is back (at most 5000 in all).
			after := 0
			for i := 0; i < most && after < sends; i++ {
				if i == 20 {
					once.Do(func() { close(started) })
				}
				form := url.Values{"user_type": {"1"}, "open_id": {user}, "msg_type": {"text"}, "content": {"hi"}}
				req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=static-token-a", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				rec := httptest.NewRecorder()
				sb.ServeHTTP(rec, req)
				out := rec.Header().Get(smartappmock.HeaderOutcome)
				mu.Lock()
				answers[rec.Header().Get(smartappmock.HeaderRequestID)] = told{out, user}
				if out == "business 0" {
					successes[user]++
				}
				mu.Unlock()
				if out != "business 0" {
					time.Sleep(time.Millisecond) // the replica answers at once while Redis is away
				} else if back.Load() {
					after++
				}
			}
		})
	}
	<-started
	_ = raw.ShutdownSave(context.Background()).Err() // the connection ends with it
	rs.Stop()                                        // reaps the process that exited
	rs.Start()                                       // loads what it saved
	back.Store(true)
	wg.Wait()

	deadline := time.Now().Add(15 * time.Second)
	for {
		left, err := sb.Core.Reconcile(context.Background())
		if err == nil && left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reconciliation: %d sends left after 15s: %v", left, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	outcomes := map[string]int{}
	for _, a := range answers {
		outcomes[a.outcome]++
	}
	t.Logf("outcomes of %d sends with a graceful Redis shutdown in the middle: %v", len(answers), outcomes)
	if outcomes["gateway 2"] == 0 || outcomes["business 0"] < clients*sends {
		t.Errorf("outcomes %v: want sends that met the shutdown (gateway 2) and successes after it", outcomes)
	}
	ctx := context.Background()
	entries, err := st.Journal(ctx, store.Query{App: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	journaled := map[string]bool{}
	for _, e := range entries {
		a, ok := answers[e.ID]
		got := string(e.Layer) + " " + strconv.Itoa(e.Code)
		switch {
		case !ok:
			t.Errorf("journal entry %s (%s) answers no request of the load", e.ID, got)
		case journaled[e.ID]:
			t.Errorf("journal entry %s appears twice", e.ID)
		case got != a.outcome:
			t.Errorf("journal entry %s says %s; its client was told %s", e.ID, got, a.outcome)
		}
		journaled[e.ID] = true
	}
	for id, a := range answers {
		if a.outcome == "business 0" && !journaled[id] {
			t.Errorf("send %s was answered business 0 but is not in the journal", id)
		}
	}
	ws, err := st.Windows(ctx, "1001")
	if err != nil {
		t.Fatal(err)
	}
	counted := map[string]int{}
	for _, w := range ws {
		counted[w.OpenID] = w.Replies
	}
	for c := range clients {
		user := "user-" + strconv.Itoa(c)
		if counted[user] != successes[user] {
			t.Errorf("window of %s counts %d replies; its client saw %d successes", user, counted[user], successes[user])
		}
	}
}

// TestHold_AppList_PagedWithACursor lists the configured apps two at a time: each page names
// the next, the last names none, and a limit out of range is a 400 that says the range.
func TestHold_AppList_PagedWithACursor(t *testing.T) {
	sb, err := sandbox.New(mockserver.Options{Config: configtest.Parse(t, configtest.Strict)}, admin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string, out any) int {
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return rec.Code
	}
	var pages [][]string
	after := ""
	for range 5 {
		var list admin.AppList
		if code := get("/__admin/apps?limit=2&after="+url.QueryEscape(after), &list); code != http.StatusOK {
			t.Fatalf("GET /__admin/apps?limit=2: %d", code)
		}
		var ids []string
		for _, a := range list.Apps {
			ids = append(ids, a.ID)
		}
		pages = append(pages, ids)
		if list.Next == "" {
			break
		}
		after = list.Next
	}
	if diff := cmp.Diff([][]string{{"1001", "1002"}, {"1003"}}, pages); diff != "" {
		t.Errorf("pages of two (-want +got):\n%s", diff)
	}
	var e struct {
		Error string `json:"error"`
	}
	if code := get("/__admin/apps?limit=5000", &e); code != http.StatusBadRequest || !strings.Contains(e.Error, "from 1 to 1000") {
		t.Errorf("GET /__admin/apps?limit=5000: %d %q, want 400 naming the range", code, e.Error)
	}
}
