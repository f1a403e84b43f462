package sandbox_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/store"
)

// runReplicas runs the cases of two servers (replicas) sharing one store: what one server counts,
// the other sees; what one is told through its admin API, the other does at its next request.
func runReplicas(t *testing.T, newStore func(t *testing.T) store.Store) {
	newServer := newReplica
	start := func(t *testing.T, st store.Store) *httptest.Server {
		t.Helper()
		cfg := configtest.Parse(t, configtest.Strict)
		hs := httptest.NewServer(newServer(t, st, cfg))
		t.Cleanup(hs.Close)
		return hs
	}
	t.Run("Servers_WindowCountedOnceAndNeverResetByAStart", func(t *testing.T) {
		st := newStore(t)
		a, b := start(t, st), start(t, st)
		var got []string
		for i := range 6 {
			got = append(got, send(t, []*httptest.Server{a, b}[i%2], "user-a"))
		}
		c := start(t, st) // a third replica starts: its seeding must not reopen the window
		got = append(got, send(t, c, "user-a"), send(t, a, "user-a"))
		want := []string{"business 0", "business 0", "business 0", "business 0", "business 0", "business 90001", "business 90001", "business 90001"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("outcomes across replicas (-want +got):\n%s", diff)
		}
	})
	t.Run("Servers_RulePutOnOneDecidesOnTheOther", func(t *testing.T) {
		st := newStore(t)
		a, b := start(t, st), start(t, st)
		adminCall(t, a, http.MethodPut, "/__admin/rules", `{"rules":[{"name":"twice","match":{"open_id":"user-a"},"answer":{"errno":90002},"times":2}]}`, nil)
		got := []string{send(t, b, "user-a"), send(t, a, "user-a"), send(t, b, "user-a")}
		want := []string{"business 90002", "business 90002", "business 0"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		var rules struct {
			Rules []struct {
				Used int `json:"used"`
			} `json:"rules"`
		}
		adminCall(t, b, http.MethodGet, "/__admin/rules", "", &rules)
		if len(rules.Rules) != 1 || rules.Rules[0].Used != 2 {
			t.Errorf("rules seen through the other server: %+v, want 1 rule used twice", rules)
		}
	})
	t.Run("Servers_FaultSequenceStepsAcrossServers", func(t *testing.T) {
		st := newStore(t)
		a, b := start(t, st), start(t, st)
		adminCall(t, a, http.MethodPut, "/__admin/faults", `{"faults":[{"match":{"open_id":"user-a"},"sequence":["http_503","none","http_502"]}]}`, nil)
		var got []int
		for _, srv := range []*httptest.Server{b, a, b, a} {
			got = append(got, sendStatus(t, srv, "user-a"))
		}
		if diff := cmp.Diff([]int{503, 200, 502, 200}, got); diff != "" {
			t.Errorf("statuses: one sequence across servers (-want +got):\n%s", diff)
		}
	})
	t.Run("Servers_LiveFeedOfOneShowsTheOther", func(t *testing.T) {
		st := newStore(t)
		a, b := start(t, st), start(t, st)
		res, err := http.Get(b.URL + "/__admin/ui/events?app=1001")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		rd := bufio.NewReader(res.Body)
		if _, err := rd.ReadString('\n'); err != nil { // the stream is open
			t.Fatal(err)
		}
		id := sendID(t, a, "user-a")
		deadline := time.AfterFunc(10*time.Second, func() { res.Body.Close() })
		defer deadline.Stop()
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatalf("the stream of server b ended before showing %s, sent through server a: %v", id, err)
			}
			if strings.HasPrefix(line, "data: ") && strings.Contains(line, `"id":"`+id+`"`) {
				return
			}
		}
	})
	t.Run("Servers_JournalPagingByCursor", func(t *testing.T) {
		st := newStore(t)
		a, b := start(t, st), start(t, st)
		var ids []string
		for i := range 5 {
			ids = append(ids, sendID(t, []*httptest.Server{a, b}[i%2], "user-a"))
		}
		var pages [][]string
		before := ""
		for range 5 {
			var page struct {
				Requests []store.Entry `json:"requests"`
			}
			adminCall(t, b, http.MethodGet, "/__admin/requests?limit=2"+before, "", &page)
			if len(page.Requests) == 0 {
				break
			}
			var p []string
			for _, e := range page.Requests {
				p = append(p, e.ID)
			}
			pages = append(pages, p)
			before = fmt.Sprintf("&before=%d", page.Requests[len(page.Requests)-1].Seq)
		}
		want := [][]string{{ids[4], ids[3]}, {ids[2], ids[1]}, {ids[0]}}
		if diff := cmp.Diff(want, pages); diff != "" {
			t.Errorf("pages through server b (-want +got):\n%s", diff)
		}
	})
	t.Run("Servers_ResetIsOneStepForAll", func(t *testing.T) {
		st := newStore(t)
		a, b := start(t, st), start(t, st)
		for range 5 {
			send(t, a, "user-a")
		}
		adminCall(t, a, http.MethodPut, "/__admin/rules", `{"rules":[{"match":{"open_id":"user-b"},"answer":{"errno":90002}}]}`, nil)
		adminCall(t, b, http.MethodPost, "/__admin/reset", "", nil)
		if got := send(t, a, "user-a"); got != "business 0" {
			t.Errorf("after a reset through b, a's send to user-a: %s, want the configured window open again", got)
		}
		if got := send(t, a, "user-b"); got != "business 90001" {
			t.Errorf("after a reset, user-b: %s, want 90001 (the rule put before the reset is gone)", got)
		}
	})
}

func sendReq(t *testing.T, srv *httptest.Server, openID string) *http.Response {
	t.Helper()
	form := url.Values{"user_type": {"1"}, "open_id": {openID}, "msg_type": {"text"}, "content": {"hi"}}
	res, err := http.Post(srv.URL+smartappmock.SendPath+"?access_token=static-token-a", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func send(t *testing.T, srv *httptest.Server, openID string) string {
	t.Helper()
	return sendReq(t, srv, openID).Header.Get(smartappmock.HeaderOutcome)
}

func sendID(t *testing.T, srv *httptest.Server, openID string) string {
	t.Helper()
	return sendReq(t, srv, openID).Header.Get(smartappmock.HeaderRequestID)
}

func sendStatus(t *testing.T, srv *httptest.Server, openID string) int {
	t.Helper()
	return sendReq(t, srv, openID).StatusCode
}

func adminCall(t *testing.T, srv *httptest.Server, method, path, body string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}
