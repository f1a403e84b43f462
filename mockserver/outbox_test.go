package mockserver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
)

// recordingBot answers every push after delay with success (or 503 while failing), and keeps
// the exact bytes of each request it received.
type recordingBot struct {
	delay time.Duration
	mu    sync.Mutex
	fail  bool
	got   []received
}

type received struct {
	query, body string
}

func (b *recordingBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if echo := r.URL.Query().Get(baidupush.ParamEchoStr); echo != "" {
		_, _ = io.WriteString(w, echo)
		return
	}
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.got = append(b.got, received{r.URL.RawQuery, string(body)})
	fail := b.fail
	b.mu.Unlock()
	select {
	case <-time.After(b.delay):
	case <-r.Context().Done():
		return
	}
	if fail {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	_, _ = io.WriteString(w, "success")
}

func (b *recordingBot) received() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.got...)
}

// startDelivery starts s's delivery loop and stops it at t's end.
func startDelivery(t *testing.T, s *mockserver.Server, opts mockserver.DeliveryOptions) *mockserver.Delivery {
	t.Helper()
	d, err := s.StartDelivery(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Stop(context.Background()) })
	return d
}

func hi(app, openID string) mockserver.UserWrite {
	return mockserver.UserWrite{App: app, OpenID: openID, Messages: []mockserver.UserMessage{{MsgType: baidupush.MsgTypeText, Content: "hi"}}}
}

// TestOutbox_WaitQueueAndLog: through the outbox, a waiting call answers as within the call, a
// queued one answers "queued" at once, and the delivery log follows both to delivered.
func TestOutbox_WaitQueueAndLog(t *testing.T) {
	t.Parallel()
	s := newUserWritesServer(t, nil)
	bot := &recordingBot{}
	pushTo(t, s, "1001", bot, 2)
	startDelivery(t, s, mockserver.DeliveryOptions{Replica: "r1"})
	ctx := context.Background()

	waited, err := s.UserWrites(ctx, hi("1001", "u1"))
	if err != nil || waited.Outcome != "delivered" || len(waited.Results) != 1 || len(waited.Results[0].Attempts) != 1 {
		t.Fatalf("UserWrites (wait) = %+v, %v; want delivered after 1 attempt", waited, err)
	}
	in := hi("1001", "u2")
	in.Queue = true
	queued, err := s.UserWrites(ctx, in)
	if err != nil || queued.Outcome != mockserver.OutcomeQueued || queued.Results[0].Outcome != mockserver.OutcomeQueued {
		t.Fatalf("UserWrites (queue) = %+v, %v; want queued", queued, err)
	}
	id := queued.Results[0].MsgID
	p := waitForStatus(t, s, id, mockserver.PushDelivered)
	if p.App != "1001" || p.OpenID != "u2" || p.MsgType != "text" || len(p.Attempts) != 1 {
		t.Errorf("Push(%d) = %+v", id, p)
	}
	a := p.Attempts[0].Push
	if a.Replica != "r1" || a.Delivery != 1 || a.Verdict != mockserver.VerdictAcknowledged || a.Request == nil {
		t.Errorf("attempt = %+v; want delivery 1 by r1, acknowledged, with its request", a)
	}
	list, next, err := s.Pushes(ctx, mockserver.PushQuery{App: "1001"})
	if err != nil || len(list) != 2 || next != 0 || list[0].MsgID != id || list[1].MsgID != waited.Results[0].MsgID {
		t.Errorf("Pushes = %d pushes, next %d, %v; want the two, newest first", len(list), next, err)
	}
	if list, _, _ := s.Pushes(ctx, mockserver.PushQuery{App: "1001", OpenID: "u1"}); len(list) != 1 || list[0].OpenID != "u1" {
		t.Errorf("Pushes(open_id u1) = %+v; want u1's push alone", list)
	}
	if list, _, _ := s.Pushes(ctx, mockserver.PushQuery{Failed: true}); len(list) != 0 {
		t.Errorf("Pushes(failed) = %d pushes; want none", len(list))
	}
}

func waitForStatus(t *testing.T, s *mockserver.Server, id int64, status string) mockserver.PushLog {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, ok, err := s.Push(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ok && p.Status == status {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("push %d: status %q after 10 s (found %v), want %q", id, p.Status, ok, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRedeliver_SameMsgIdSameBytes: a redelivery resends the recorded request byte for byte,
// the log keeps the exact bytes of every attempt, and they are what the bot received.
func TestRedeliver_SameMsgIdSameBytes(t *testing.T) {
	t.Parallel()
	for _, outbox := range []bool{false, true} {
		name := map[bool]string{false: "WithinTheCall", true: "ThroughTheOutbox"}[outbox]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newUserWritesServer(t, nil)
			bot := &recordingBot{fail: true}
			pushTo(t, s, "1001", bot, 1)
			if outbox {
				startDelivery(t, s, mockserver.DeliveryOptions{})
			}
			ctx := context.Background()
			w, err := s.UserWrites(ctx, hi("1001", "u1"))
			if err != nil || w.Outcome != "failed" {
				t.Fatalf("UserWrites = %+v, %v; want failed (the bot answers 503)", w, err)
			}
			id := w.Results[0].MsgID
			if list, _, _ := s.Pushes(ctx, mockserver.PushQuery{Failed: true}); len(list) != 1 || list[0].MsgID != id {
				t.Errorf("Pushes(failed) = %+v; want MsgId %d", list, id)
			}
			bot.mu.Lock()
			bot.fail = false
			bot.mu.Unlock()
			r, err := s.Redeliver(ctx, id, false)
			if err != nil || r.Outcome != "delivered" || r.Results[0].MsgID != id {
				t.Fatalf("Redeliver = %+v, %v; want MsgId %d delivered", r, err, id)
			}
			p := waitForStatus(t, s, id, mockserver.PushDelivered)
			got := bot.received()
			if len(p.Attempts) != 3 || len(got) != 3 {
				t.Fatalf("%d attempts in the log, %d requests at the bot; want 3 and 3", len(p.Attempts), len(got))
			}
			for i, e := range p.Attempts {
				req := e.Push.Request
				if req.Body != got[i].body || req.URL[len(req.URL)-len(got[i].query):] != got[i].query {
					t.Errorf("attempt %d: logged %q %q, the bot received %q %q", i+1, req.URL, req.Body, got[i].query, got[i].body)
				}
				if got[i] != got[0] {
					t.Errorf("request %d differs from the first: %+v vs %+v (a redelivery resends the same bytes)", i+1, got[i], got[0])
				}
			}
			last := p.Attempts[2].Push
			if !last.Redelivery || last.Delivery != 2 || last.Verdict != mockserver.VerdictAcknowledged {
				t.Errorf("redelivered attempt = %+v; want delivery 2, a redelivery, acknowledged", last)
			}
		})
	}
}

// TestOutbox_StopMidDelivery: stopping the loop while a slow bot holds a delivery answers the
// waiting caller, journals the attempt cut short, and leaves the push in the outbox.
func TestOutbox_StopMidDelivery(t *testing.T) {
	t.Parallel()
	var st store.Store = memstore.New(100)
	s := newUserWritesServer(t, st)
	bot := &recordingBot{delay: 5 * time.Second}
	pushTo(t, s, "1001", bot, 0)
	d, err := s.StartDelivery(mockserver.DeliveryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	answered := make(chan mockserver.UserWrote, 1)
	go func() {
		w, _ := s.UserWrites(context.Background(), hi("1001", "u1"))
		answered <- w
	}()
	for len(bot.received()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := d.Stop(ctx); err == nil {
		t.Error("Stop = nil; want the deadline's error (a delivery had to be canceled)")
	}
	w := <-answered
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Stop and the caller's answer took %s; want about the 200 ms deadline", took)
	}
	if w.Outcome != "canceled" {
		t.Errorf("the waiting caller got %q (%s); want canceled", w.Outcome, w.Summary)
	}
	p := waitForStatus(t, s, w.Results[0].MsgID, mockserver.PushPending)
	if len(p.Attempts) != 1 || p.Attempts[0].Push.Verdict != mockserver.VerdictCanceled {
		t.Errorf("log = %+v; want the attempt cut short, journaled as canceled", p.Attempts)
	}
	if n, _ := st.(store.Outbox).OutboxDepth(context.Background()); n != 1 {
		t.Errorf("outbox depth after Stop = %d; want 1 (the push is left for another replica)", n)
	}
}

// TestOutbox_ThousandQueuedGoroutinesBounded: 1,000 messages queued at once on a replica with 4
// workers and a slow bot: the replica's goroutines stay within a bound that does not grow with
// the queue (the deliveries in flight, their HTTP connections, and the loop's own).
func TestOutbox_ThousandQueuedGoroutinesBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 deliveries")
	}
	s := newUserWritesServer(t, nil)
	bot := &recordingBot{delay: 20 * time.Millisecond}
	pushTo(t, s, "1001", bot, 0)
	const workers = 4
	base := runtime.NumGoroutine()
	d := startDelivery(t, s, mockserver.DeliveryOptions{Workers: workers, MaxQueue: 2000})
	ctx := context.Background()
	for range 1000 {
		in := hi("1001", "u1")
		in.Queue = true
		if _, err := s.UserWrites(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	// Each delivery in flight costs its goroutine, its HTTP client's connection (2 goroutines)
	// and the bot's server side (2); the loop has 2; the test's bot server 1 more.
	bound := base + 2 + workers*6 + 4
	peak := 0
	var ms runtime.MemStats
	var heapPeak uint64
	for i := 0; ; i++ {
		n := runtime.NumGoroutine()
		peak = max(peak, n)
		if i%50 == 0 {
			runtime.ReadMemStats(&ms)
			heapPeak = max(heapPeak, ms.HeapAlloc)
		}
		if n > bound {
			t.Fatalf("%d goroutines with %d workers (bound %d, %d before the loop started)", n, workers, bound, base)
		}
		if d.InFlight() > workers {
			t.Fatalf("%d deliveries in flight with %d workers", d.InFlight(), workers)
		}
		if d.QueueDepth() == 0 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	delivered, failed, _ := d.Counts()
	if delivered != 1000 || failed != 0 {
		t.Errorf("delivered %d, failed %d; want 1000 and 0", delivered, failed)
	}
	t.Logf("goroutines: %d before, peak %d (bound %d); heap in use at most %.1f MiB (sampled)", base, peak, bound, float64(heapPeak)/(1<<20))
}

// TestRedeliver_CutRequestRefused: a push whose body was over 64 KiB is kept cut in the log,
// marked so, and redelivery refuses it rather than send other bytes.
func TestRedeliver_CutRequestRefused(t *testing.T) {
	t.Parallel()
	s := newUserWritesServer(t, nil)
	pushTo(t, s, "1001", &recordingBot{}, 0)
	in := hi("1001", "u1")
	in.Messages[0].Content = strings.Repeat("长", 30000) // 90,000 bytes of UTF-8
	w, err := s.UserWrites(context.Background(), in)
	if err != nil || w.Outcome != "delivered" {
		t.Fatalf("UserWrites = %+v, %v", w, err)
	}
	p, _, _ := s.Push(context.Background(), w.Results[0].MsgID)
	if r := p.Attempts[0].Push.Request; !r.Truncated || len(r.Body) != 64<<10 {
		t.Errorf("logged request: truncated %v, %d bytes; want cut to 64 KiB and marked", r.Truncated, len(r.Body))
	}
	_, err = s.Redeliver(context.Background(), w.Results[0].MsgID, false)
	if mockserver.ErrorCodeOf(err) != mockserver.ErrInvalid || !strings.Contains(fmt.Sprint(err), "kept cut") {
		t.Errorf("Redeliver of a cut request = %v; want ErrInvalid saying it is kept cut", err)
	}
}
