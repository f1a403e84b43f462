package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/store"
)

// slowBot answers the handshake at once; a push whose body says "quick" after 500 ms, any other
// only when the fake hangs up. It counts the requests of each MsgId it received.
type slowBot struct {
	mu       sync.Mutex
	received map[int64]int
}

func (b *slowBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if echo := r.URL.Query().Get(baidupush.ParamEchoStr); echo != "" {
		_, _ = io.WriteString(w, echo)
		return
	}
	var m baidupush.Message
	body, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(body, &m)
	b.mu.Lock()
	b.received[m.MsgID]++
	b.mu.Unlock()
	wait := time.Minute
	if m.Content == "quick" {
		wait = 500 * time.Millisecond
	}
	select {
	case <-time.After(wait):
		_, _ = io.WriteString(w, "success")
	case <-r.Context().Done():
	}
}

func (b *slowBot) count() (pushes, requests int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range b.received {
		requests += n
	}
	return len(b.received), requests
}

// TestServe_SIGTERMDuringPushDelivery_ExitsZeroEveryAttemptJournaled: SIGTERM while a slow bot
// holds two deliveries: the one the bot answers within the drain period is finished, the other is
// canceled at its end; both admin callers get their answer, every attempt the bot received is in
// the journal file (the canceled one as canceled), and the process exits 0 within the drain.
func TestServe_SIGTERMDuringPushDelivery_ExitsZeroEveryAttemptJournaled(t *testing.T) {
	bin := buildCommand(t)
	journal := filepath.Join(t.TempDir(), "journal.ndjson")
	p := startProc(t, bin, "SMARTAPPMOCK_JOURNAL_FILE="+journal)
	bot := &slowBot{received: map[int64]int{}}
	bs := httptest.NewServer(bot)
	defer bs.Close()

	put, _ := http.NewRequest(http.MethodPut, p.base+"/__admin/apps/1001/push",
		strings.NewReader(`{"url":"`+bs.URL+`/","token":"t","format":"json","timeout":"50s","retries":0}`))
	resp, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT push: HTTP %d", resp.StatusCode)
	}

	type answer struct {
		status  int
		outcome string
		msgID   int64
	}
	answers := map[string]chan answer{"quick": make(chan answer, 1), "slow": make(chan answer, 1)}
	for content, ch := range answers {
		go func() {
			resp, err := http.Post(p.base+"/__admin/apps/1001/users/u-"+content+"/messages", "application/json",
				strings.NewReader(`{"msg_type":"text","content":"`+content+`"}`))
			if err != nil {
				ch <- answer{}
				return
			}
			defer resp.Body.Close()
			var a struct {
				Outcome string `json:"outcome"`
				Results []struct {
					MsgID int64 `json:"msg_id"`
				} `json:"results"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&a)
			out := answer{status: resp.StatusCode, outcome: a.Outcome}
			if len(a.Results) > 0 {
				out.msgID = a.Results[0].MsgID
			}
			ch <- out
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if n, _ := bot.count(); n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bot did not receive both pushes within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}

	start := time.Now()
	p.signal(syscall.SIGTERM)
	err = p.wait(15 * time.Second)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v, want status 0\nstderr:\n%s", err, p.stderr)
	}
	t.Logf("SIGTERM to exit with two deliveries in flight: %s", took.Round(time.Millisecond))
	if limit := shutdownGrace + 2*time.Second; took > limit {
		t.Errorf("SIGTERM to exit took %s, want within the drain period and its margin (%s, as for the other shutdown tests)", took, limit)
	}
	quick, slow := <-answers["quick"], <-answers["slow"]
	if quick.status != http.StatusOK || quick.outcome != "delivered" {
		t.Errorf("the caller of the quick push got HTTP %d %q; want 200 delivered", quick.status, quick.outcome)
	}
	if slow.status != http.StatusOK || slow.outcome != "canceled" {
		t.Errorf("the caller of the slow push got HTTP %d %q; want 200 canceled", slow.status, slow.outcome)
	}

	data, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	verdicts := map[int64][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e store.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("journal line %q: %v", line, err)
		}
		if e.Endpoint == store.EndpointPush {
			verdicts[e.Push.MsgID] = append(verdicts[e.Push.MsgID], e.Push.Verdict)
		}
	}
	bot.mu.Lock()
	defer bot.mu.Unlock()
	for id, n := range bot.received {
		if len(verdicts[id]) != n {
			t.Errorf("MsgId %d: the bot received %d requests, the journal file holds %d attempts %v", id, n, len(verdicts[id]), verdicts[id])
		}
	}
	if v := verdicts[quick.msgID]; len(v) != 1 || v[0] != "acknowledged" {
		t.Errorf("the quick push's attempts: %v; want [acknowledged]", v)
	}
	if v := verdicts[slow.msgID]; len(v) != 1 || v[0] != "canceled" {
		t.Errorf("the slow push's attempts: %v; want [canceled]", v)
	}
}
