package sandbox

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
)

// slowAckBot echoes the handshake and acknowledges each push after delay, or when release is
// closed (whichever comes first; a nil release never comes).
func slowAckBot(t *testing.T, delay time.Duration, release chan struct{}) *httptest.Server {
	t.Helper()
	bs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := r.URL.Query().Get(baidupush.ParamEchoStr); e != "" {
			_, _ = io.WriteString(w, e)
			return
		}
		select {
		case <-time.After(delay):
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(bs.Close)
	return bs
}

// newPushReplica serves a sandbox on st with a delivery loop of workers workers.
func newPushReplica(t *testing.T, st store.Store, opts mockserver.DeliveryOptions) (*admin.Client, *mockserver.Delivery) {
	t.Helper()
	srv, err := newSandbox(mockserver.Options{Config: configtest.Parse(t, configtest.Strict), Store: st})
	if err != nil {
		t.Fatal(err)
	}
	d, err := srv.Core.StartDelivery(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); _ = d.Stop(context.Background()) })
	return &admin.Client{BaseURL: hs.URL, HTTP: hs.Client()}, d
}

var hiMessage = admin.UserWrites{PushMessage: admin.PushMessage{MsgType: baidupush.MsgTypeText, Content: "hi"}}

// TestPushOutbox_WaitAcrossReplicas: two replicas on one store (memory, miniredis), each with one
// worker, a bot that answers in 150 ms: messages written concurrently through replica A are
// delivered by both replicas, and each caller of A gets its delivery's result wherever it was made.
func TestPushOutbox_WaitAcrossReplicas(t *testing.T) {
	t.Parallel()
	for _, tc := range sharedStores() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := tc.newStore(t)
			a, _ := newPushReplica(t, st, mockserver.DeliveryOptions{Workers: 1, Replica: "A"})
			newPushReplica(t, st, mockserver.DeliveryOptions{Workers: 1, Replica: "B", Poll: 10 * time.Millisecond})
			bot := slowAckBot(t, 150*time.Millisecond, nil)
			ctx := context.Background()
			if _, err := a.PutPush(ctx, "1001", config.Push{Config: baidupush.Config{URL: bot.URL, Token: botToken, Format: baidupush.FormatJSON}}); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			ids := make([]int64, 4)
			for i := range ids {
				wg.Go(func() {
					ans, err := a.UserWrites(ctx, "1001", "u1", hiMessage)
					if err != nil || ans.Outcome != "delivered" || len(ans.Results) != 1 {
						t.Errorf("UserWrites %d = %+v, %v; want delivered", i, ans, err)
						return
					}
					ids[i] = ans.Results[0].MsgID
				})
			}
			wg.Wait()
			by := map[string]int{}
			for _, id := range ids {
				p, err := a.PushLog(ctx, id)
				if err != nil || p.Status != "delivered" || len(p.Attempts) != 1 {
					t.Fatalf("PushLog(%d) = %+v, %v", id, p, err)
				}
				by[p.Attempts[0].Replica]++
			}
			if by["A"] == 0 || by["B"] == 0 {
				t.Errorf("deliveries by replica %v; want both replicas to deliver (one worker each, four messages at once)", by)
			}
		})
	}
}

// TestPushLog_Routes: the delivery log's routes page, filter and refuse bad input with a 4xx
// that says why; a full outbox answers 503 with Retry-After.
func TestPushLog_Routes(t *testing.T) {
	t.Parallel()
	st := memstore.New(100)
	release := make(chan struct{})
	c, _ := newPushReplica(t, st, mockserver.DeliveryOptions{Workers: 1, MaxQueue: 3})
	bot := slowAckBot(t, time.Minute, release)
	ctx := context.Background()
	if _, err := c.PutPush(ctx, "1001", config.Push{Config: baidupush.Config{URL: bot.URL, Token: botToken, Format: baidupush.FormatJSON}}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, who := range []string{"u1", "u2", "u1"} {
		var ans admin.UserWroteAnswer
		if err := c.Do(ctx, http.MethodPost, "/__admin/apps/1001/users/"+who+"/messages?wait=false", hiMessage, &ans); err != nil || ans.Outcome != "queued" {
			t.Fatalf("user writes ?wait=false = %+v, %v; want queued", ans, err)
		}
		ids = append(ids, ans.Results[0].MsgID)
	}
	// The bot holds the first push: three jobs in the outbox, the fourth is refused.
	err := c.Do(ctx, http.MethodPost, "/__admin/apps/1001/users/u3/messages", hiMessage, nil)
	var ae *admin.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || !strings.Contains(ae.Message, "max_queue 3") {
		t.Errorf("a fourth message with max_queue 3 = %v; want 503 naming the limit", err)
	}
	close(release)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		p, err := c.PushLog(ctx, ids[2])
		if err == nil && p.Status == "delivered" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queued pushes were not delivered: %+v %v", p, err)
		}
	}

	page1, err := c.Pushes(ctx, url.Values{"app": {"1001"}, "limit": {"2"}})
	if err != nil || len(page1.Pushes) != 2 || page1.Pushes[0].MsgID != ids[2] || page1.Pushes[1].MsgID != ids[1] || page1.NextBefore == 0 {
		t.Fatalf("page 1 = %+v, %v; want the two newest and a cursor", page1, err)
	}
	page2, err := c.Pushes(ctx, url.Values{"app": {"1001"}, "limit": {"2"}, "before": {formatUint(page1.NextBefore)}})
	if err != nil || len(page2.Pushes) != 1 || page2.Pushes[0].MsgID != ids[0] || page2.NextBefore != 0 {
		t.Errorf("page 2 = %+v, %v; want the oldest and no cursor", page2, err)
	}
	if u1, _ := c.Pushes(ctx, url.Values{"open_id": {"u1"}}); len(u1.Pushes) != 2 {
		t.Errorf("open_id=u1: %d pushes; want 2", len(u1.Pushes))
	}
	if failed, _ := c.Pushes(ctx, url.Values{"failed": {"true"}}); len(failed.Pushes) != 0 {
		t.Errorf("failed=true: %d pushes; want none", len(failed.Pushes))
	}

	for _, tc := range []struct {
		name, method, path string
		status             int
		says               string
	}{
		{"FailedNotABoolean_400", http.MethodGet, "/__admin/pushes?failed=maybe", 400, `failed: "maybe"; want true or false`},
		{"LimitZero_400", http.MethodGet, "/__admin/pushes?limit=0", 400, "limit"},
		{"BeforeNotACursor_400", http.MethodGet, "/__admin/pushes?before=x", 400, "before"},
		{"MsgIdNotANumber_400", http.MethodGet, "/__admin/pushes/abc", 400, "not a MsgId"},
		{"UnknownMsgId_404", http.MethodGet, "/__admin/pushes/42", 404, "no push with MsgId 42"},
		{"RedeliverUnknown_404", http.MethodPost, "/__admin/pushes/42/redeliver", 404, "no push with MsgId 42"},
		{"WaitNotABoolean_400", http.MethodPost, "/__admin/pushes/" + formatInt(ids[0]) + "/redeliver?wait=soon", 400, "wait"},
		{"PutOnAPush_405", http.MethodPut, "/__admin/pushes/" + formatInt(ids[0]), 405, "allowed: GET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Do(ctx, tc.method, tc.path, nil, nil)
			var ae *admin.Error
			if !errors.As(err, &ae) || ae.Status != tc.status || !strings.Contains(ae.Message, tc.says) {
				t.Errorf("%s %s = %v; want HTTP %d saying %q", tc.method, tc.path, err, tc.status, tc.says)
			}
		})
	}
}

func formatInt(n int64) string   { return strconv.FormatInt(n, 10) }
func formatUint(n uint64) string { return strconv.FormatUint(n, 10) }
