package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/internal/testenv"
	"github.com/smartappmock/smartappmock/mockserver/admin"
)

// scaleoutPushConfig is the push test's configuration: one app, a journal that holds every
// message and attempt of the test.
const scaleoutPushConfig = `version: 1
policy:
  journal_cap: 5000
apps:
  - {id: "pushapp", client_id: push-client, client_secret: s}
`

// countingBot acknowledges each push after delay. It counts the requests of each MsgId, and
// records whether two requests of one MsgId were ever in flight at once (two replicas
// delivering the same push).
type countingBot struct {
	delay    time.Duration
	mu       sync.Mutex
	received map[int64]int
	inFlight map[int64]int
	overlaps []int64
	total    int
}

func (b *countingBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if echo := r.URL.Query().Get(baidupush.ParamEchoStr); echo != "" {
		_, _ = io.WriteString(w, echo)
		return
	}
	var m baidupush.Message
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &m); err != nil || m.MsgID == 0 {
		http.Error(w, "not a push", http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.received[m.MsgID]++
	b.total++
	if b.inFlight[m.MsgID]++; b.inFlight[m.MsgID] > 1 {
		b.overlaps = append(b.overlaps, m.MsgID)
	}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.inFlight[m.MsgID]--
		b.mu.Unlock()
	}()
	select {
	case <-time.After(b.delay):
		_, _ = io.WriteString(w, "success")
	case <-r.Context().Done():
	}
}

func (b *countingBot) requests() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total
}

// TestScaleOut_PushOutbox_ReplicaKilledMidDelivery: three replicas on one redis-server, a bot
// that answers in 200 ms, 200 user messages queued through replica 1, and replica 1 killed with
// SIGKILL while it delivers: every push is delivered and acknowledged exactly once by MsgId (a
// push replica 1 was delivering is delivered again by another replica, as delivery 2), no MsgId
// is ever in flight twice at once, and the delivery log read through replica 2 and replica 3 is
// complete and the same.
func TestScaleOut_PushOutbox_ReplicaKilledMidDelivery(t *testing.T) {
	testenv.SkipIfShort(t, "builds the command, starts three replicas and redis-server")
	redisBin := needRedisServerBinary(t)
	dir := shortTempDir(t)
	bin := filepath.Join(dir, "smartappmock")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(scaleoutPushConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	rs := startRedis(t, redisBin, dir)
	var reps []*replica
	for i := range 3 {
		reps = append(reps, startReplica(t, bin, fmt.Sprintf("replica%d", i+1), "--config", cfg, "--store", rs.url(),
			"--push-workers", "4", "--push-lease", "2s"))
	}
	bot := &countingBot{delay: 200 * time.Millisecond, received: map[int64]int{}, inFlight: map[int64]int{}}
	bs := httptest.NewServer(bot)
	defer bs.Close()
	adminCall(t, http.MethodPut, reps[0].base+"/__admin/apps/pushapp/push",
		`{"url":"`+bs.URL+`/","token":"t","format":"json","retries":2}`, http.StatusOK)

	const n = 200
	var ids []int64
	for i := range n {
		var a admin.UserWroteAnswer
		body := adminCall(t, http.MethodPost, fmt.Sprintf("%s/__admin/apps/pushapp/users/user-%d/messages?wait=false", reps[0].base, i%20),
			fmt.Sprintf(`{"msg_type":"text","content":"message %d"}`, i), http.StatusOK)
		if err := json.Unmarshal([]byte(body), &a); err != nil || a.Outcome != "queued" || len(a.Results) != 1 {
			t.Fatalf("message %d: %s (%v); want queued", i, body, err)
		}
		ids = append(ids, a.Results[0].MsgID)
	}
	for deadline := time.Now().Add(30 * time.Second); bot.requests() < n/3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the bot received %d requests in 30 s", bot.requests())
		}
	}
	reps[0].kill(t) // kill -9, while its 4 workers hold leases
	killedAt := bot.requests()

	// Every push delivered, as the log says through replica 2 and replica 3.
	logs := make([]map[int64]admin.PushLogView, 2)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		logs[0], logs[1] = pushLog(t, reps[1].base), pushLog(t, reps[2].base)
		delivered := 0
		for _, id := range ids {
			if p, ok := logs[0][id]; ok && p.Status == "delivered" {
				delivered++
			}
		}
		if delivered == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d pushes delivered after 60 s", delivered, n)
		}
	}
	time.Sleep(500 * time.Millisecond) // a late duplicate, if any, would arrive now
	logs[0], logs[1] = pushLog(t, reps[1].base), pushLog(t, reps[2].base)

	bot.mu.Lock()
	defer bot.mu.Unlock()
	if len(bot.overlaps) > 0 {
		t.Errorf("MsgIds in flight twice at once (delivered by two replicas together): %v", bot.overlaps)
	}
	redelivered, replicas := 0, map[string]int{}
	for _, id := range ids {
		p2, p3 := logs[0][id], logs[1][id]
		if diff := cmp.Diff(p2, p3); diff != "" {
			t.Errorf("MsgId %d: replica 2's log and replica 3's differ (-2 +3):\n%s", id, diff)
		}
		if bot.received[id] == 0 {
			t.Errorf("MsgId %d never reached the bot", id)
		}
		acked, deliveries := 0, 0
		for _, a := range p2.Attempts {
			if a.Verdict == "acknowledged" && !a.Duplicate {
				acked++
				replicas[a.Replica]++
			}
			deliveries = max(deliveries, a.Delivery)
		}
		if acked != 1 {
			t.Errorf("MsgId %d: %d acknowledged attempts in the log %+v; want exactly 1", id, acked, p2.Attempts)
		}
		if deliveries > 1 {
			redelivered++
		}
		if len(p2.Attempts) < bot.received[id]-1 {
			// An attempt replica 1 made just before its death may be missing (it died before
			// journaling it); any other the bot received is in the log.
			t.Errorf("MsgId %d: the bot received %d requests, the log holds %d attempts", id, bot.received[id], len(p2.Attempts))
		}
	}
	if redelivered == 0 {
		t.Error("no push was delivered again after the kill; want replica 1's pushes in flight taken over (delivery 2)")
	}
	t.Logf("bot requests: %d (%d when replica 1 was killed); pushes delivered again after the kill: %d; acknowledged attempts by replica: %v",
		bot.total, killedAt, redelivered, replicas)
	for _, r := range reps[1:] {
		if m := adminCall(t, http.MethodGet, r.base+"/metrics", "", http.StatusOK); !strings.Contains(m, "smartappmock_push_queue_depth 0\n") {
			t.Errorf("%s: /metrics does not show an empty outbox", r.name)
		}
	}
}

// pushLog reads the whole delivery log of app pushapp through base, page by page.
func pushLog(t *testing.T, base string) map[int64]admin.PushLogView {
	t.Helper()
	out := map[int64]admin.PushLogView{}
	before := ""
	for {
		var page admin.PushList
		body := adminCall(t, http.MethodGet, base+"/__admin/pushes?app=pushapp&limit=100"+before, "", http.StatusOK)
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Pushes {
			out[p.MsgID] = p
		}
		if page.NextBefore == 0 {
			return out
		}
		before = fmt.Sprintf("&before=%d", page.NextBefore)
	}
}
