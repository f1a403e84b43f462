package sandbox

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
)

// startDelivery starts the fake's delivery loop and stops it at t's end.
func (f *fixture) startDelivery(opts mockserver.DeliveryOptions) *mockserver.Delivery {
	f.t.Helper()
	d, err := f.srv.Core.StartDelivery(opts)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = d.Stop(context.Background()) })
	return d
}

// waitPush polls the delivery log until push id has status.
func (f *fixture) waitPush(id int64, status string) mockserver.PushLog {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, ok, err := f.srv.Core.Push(context.Background(), id)
		if err != nil {
			f.t.Fatal(err)
		}
		if ok && p.Status == status {
			return p
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("push %d: status %q after 10 s (found %v); want %q", id, p.Status, ok, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// getMsgStatus returns push id's status as getmsg lists it (-1: not listed).
func (f *fixture) getMsgStatus(token string, id int64) int {
	f.t.Helper()
	var g getMsg
	f.tpGet(smartappmock.GetMsgPath, url.Values{"access_token": {token}, "id_list": {strconv.FormatInt(id, 10)}}, &g)
	if len(g.Data.List) != 1 {
		return -1
	}
	return g.Data.List[0].Status
}

func (p *platformReceiver) receivedBodies() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.bodies...)
}

// TestPlatformPush_QueuedDeliveredByThePool: with ?wait=false the push answers queued (status
// 0) at once, the replica's worker pool delivers it, and the delivery log and getmsg follow it
// to delivered, the log holding the exact bytes the platform received.
func TestPlatformPush_QueuedDeliveredByThePool(t *testing.T) {
	t.Parallel()
	rcv := newPlatformReceiver(t)
	f := setup(t, tpPushConfig(rcv.URL, ""))
	token := f.platformToken()
	f.startDelivery(mockserver.DeliveryOptions{Replica: "r1", Workers: 2})
	var ans admin.PlatformPushAnswer
	f.admin(http.MethodPost, admin.Prefix+"/platforms/tp-key/push?wait=false", `{"event":"ticket"}`, &ans)
	if ans.Outcome != mockserver.OutcomeQueued || ans.Status != mockserver.PlatformPushPending || ans.ID == 0 || ans.Content == "" {
		t.Fatalf("push?wait=false = %+v; want queued, status 0, with its id and content", ans)
	}
	p := f.waitPush(ans.ID, mockserver.PushDelivered)
	if p.Platform != "tp-key" || p.MsgType != "ticket" || len(p.Attempts) != 1 {
		t.Fatalf("log = %+v; want the ticket of tp-key with one attempt", p)
	}
	a := p.Attempts[0].Push
	if a.Replica != "r1" || a.Delivery != 1 || a.Verdict != mockserver.VerdictAcknowledged || a.Request == nil {
		t.Errorf("attempt = %+v; want delivery 1 by r1, acknowledged, with its request", a)
	}
	if got := rcv.receivedBodies(); len(got) != 1 || got[0] != a.Request.Body {
		t.Errorf("the platform received %q; the log holds %q", got, a.Request.Body)
	}
	if st := f.getMsgStatus(token, ans.ID); st != mockserver.PlatformPushDelivered {
		t.Errorf("getmsg status = %d; want 1 (delivered)", st)
	}
	var list admin.PushList
	f.admin(http.MethodGet, admin.Prefix+"/pushes?platform=tp-key", "", &list)
	if len(list.Pushes) != 1 || list.Pushes[0].MsgID != ans.ID || list.Pushes[0].Platform != "tp-key" || list.Pushes[0].Status != mockserver.PushDelivered {
		t.Errorf("GET /pushes?platform=tp-key = %+v; want the delivered ticket", list)
	}
	var one admin.PushLogView
	f.admin(http.MethodGet, admin.Prefix+"/pushes/"+strconv.FormatInt(ans.ID, 10), "", &one)
	if one.MsgID != ans.ID || len(one.Attempts) != 1 || one.Attempts[0].Request == nil {
		t.Errorf("GET /pushes/%d = %+v; want the push with its attempt", ans.ID, one)
	}
}

// TestPlatformPush_ReplicaStoppedMidDeliveryLeavesItToAnother: replica A stops while the
// platform holds its delivery; the push stays pending (getmsg 0), and replica B on the same
// store delivers the same bytes, as a second delivery.
func TestPlatformPush_ReplicaStoppedMidDeliveryLeavesItToAnother(t *testing.T) {
	t.Parallel()
	rcv := newPlatformReceiver(t)
	hold := make(chan struct{})
	rcv.hold = hold
	var st store.Store = memstore.New(1000)
	cfg := tpPushConfig(rcv.URL, ", timeout: 30s")
	a := setupOpts(t, cfg, func(o *mockserver.Options) { o.Store = st })
	b := setupOpts(t, cfg, func(o *mockserver.Options) { o.Store = st })
	token := a.platformToken()
	da, err := a.srv.Core.StartDelivery(mockserver.DeliveryOptions{Replica: "a"})
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := a.srv.Core.PlatformPushQueued(context.Background(), "tp-key", mockserver.PlatformEventTicket, "")
	if err != nil || pushed.Status != mockserver.PlatformPushPending {
		t.Fatalf("PlatformPushQueued = %+v, %v; want pending", pushed, err)
	}
	for deadline := time.Now().Add(10 * time.Second); len(rcv.receivedBodies()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("replica a sent nothing in 10 s")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := da.Stop(ctx); err == nil {
		t.Error("Stop = nil; want the deadline's error (a delivery had to be canceled)")
	}
	if st := b.getMsgStatus(token, pushed.ID); st != mockserver.PlatformPushPending {
		t.Errorf("getmsg after replica a stopped = %d; want 0 (pending)", st)
	}
	if n, _ := st.(store.Outbox).OutboxDepth(context.Background()); n != 1 {
		t.Errorf("outbox depth after a stopped = %d; want 1 (the push is left for another replica)", n)
	}
	rcv.mu.Lock()
	rcv.hold = nil
	rcv.mu.Unlock()
	close(hold)
	b.startDelivery(mockserver.DeliveryOptions{Replica: "b"})
	p := b.waitPush(pushed.ID, mockserver.PushDelivered)
	if len(p.Attempts) != 2 {
		t.Fatalf("log = %d attempts; want a's cut short and b's", len(p.Attempts))
	}
	first, second := p.Attempts[0].Push, p.Attempts[1].Push
	if first.Replica != "a" || first.Verdict != mockserver.VerdictCanceled || first.Delivery != 1 {
		t.Errorf("first attempt = %+v; want a's, canceled, delivery 1", first)
	}
	if second.Replica != "b" || second.Verdict != mockserver.VerdictAcknowledged || second.Delivery != 2 {
		t.Errorf("second attempt = %+v; want b's, acknowledged, delivery 2", second)
	}
	if first.Request.Body != second.Request.Body {
		t.Errorf("b sent other bytes than a: %q vs %q", second.Request.Body, first.Request.Body)
	}
	if st := a.getMsgStatus(token, pushed.ID); st != mockserver.PlatformPushDelivered {
		t.Errorf("getmsg after b delivered = %d; want 1", st)
	}
	if n, _ := st.(store.Outbox).OutboxDepth(context.Background()); n != 0 {
		t.Errorf("outbox depth at the end = %d; want 0", n)
	}
}

// TestPlatformPush_RedeliverSameBytes: a failed platform push redelivered (within the call and
// through the outbox) is sent again byte for byte, journaled as a second delivery, and getmsg
// follows it from failed to delivered.
func TestPlatformPush_RedeliverSameBytes(t *testing.T) {
	t.Parallel()
	for name, outbox := range map[string]bool{"WithinTheCall": false, "ThroughTheOutbox": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rcv := newPlatformReceiver(t)
			rcv.fail = true
			f := setup(t, tpPushConfig(rcv.URL, ""))
			token := f.platformToken()
			if outbox {
				f.startDelivery(mockserver.DeliveryOptions{})
			}
			ctx := context.Background()
			pushed, err := f.srv.Core.PlatformPush(ctx, "tp-key", mockserver.PlatformEventTicket, "")
			if err != nil || pushed.Status != mockserver.PlatformPushFailed {
				t.Fatalf("PlatformPush = %+v, %v; want failed (the platform answers 503)", pushed, err)
			}
			if st := f.getMsgStatus(token, pushed.ID); st != mockserver.PlatformPushFailed {
				t.Errorf("getmsg = %d; want 2 (failed)", st)
			}
			rcv.mu.Lock()
			rcv.fail = false
			rcv.mu.Unlock()
			var r admin.UserWroteAnswer
			f.admin(http.MethodPost, admin.Prefix+"/pushes/"+strconv.FormatInt(pushed.ID, 10)+"/redeliver", "", &r)
			if r.Outcome != "delivered" {
				t.Fatalf("redeliver = %+v; want delivered", r)
			}
			p := f.waitPush(pushed.ID, mockserver.PushDelivered)
			got := rcv.receivedBodies()
			if len(p.Attempts) != 2 || len(got) != 2 {
				t.Fatalf("%d attempts in the log, %d requests at the platform; want 2 and 2", len(p.Attempts), len(got))
			}
			for i, e := range p.Attempts {
				if e.Push.Request.Body != got[i] || got[i] != got[0] {
					t.Errorf("attempt %d: logged %q, received %q, first received %q; want the same bytes", i+1, e.Push.Request.Body, got[i], got[0])
				}
			}
			if last := p.Attempts[1].Push; !last.Redelivery || last.Delivery != 2 || last.Verdict != mockserver.VerdictAcknowledged {
				t.Errorf("redelivered attempt = %+v; want delivery 2, a redelivery, acknowledged", last)
			}
			if st := f.getMsgStatus(token, pushed.ID); st != mockserver.PlatformPushDelivered {
				t.Errorf("getmsg after the redelivery = %d; want 1 (delivered)", st)
			}
			if rs := rcv.received(); len(rs) != 1 || rs[0]["Ticket"] != "tp-ticket" {
				t.Errorf("the platform decrypted %v; want the ticket once", rs)
			}
		})
	}
}

// TestTicketSchedule_TwoReplicasThroughTheOutbox: two replicas on one store, each with its
// schedule and delivery loop: each period's ticket is put in the outbox once and delivered once,
// the bytes the platform received being those of the log.
func TestTicketSchedule_TwoReplicasThroughTheOutbox(t *testing.T) {
	t.Parallel()
	rcv := newPlatformReceiver(t)
	var st store.Store = memstore.New(1000)
	cfg := tpPushConfig(rcv.URL, ", ticket_every: 1s")
	ctx, cancel := context.WithCancel(context.Background())
	var replicas []*fixture
	stopped := make(chan struct{}, 2)
	start := time.Now()
	for _, name := range []string{"a", "b"} {
		f := setupOpts(t, cfg, func(o *mockserver.Options) { o.Store = st })
		f.startDelivery(mockserver.DeliveryOptions{Replica: name})
		go func() { f.srv.Core.RunTicketSchedule(ctx); stopped <- struct{}{} }()
		replicas = append(replicas, f)
	}
	for deadline := time.Now().Add(10 * time.Second); len(rcv.received()) < 3 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-stopped
	<-stopped
	elapsed := time.Since(start)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if n, _ := st.(store.Outbox).OutboxDepth(context.Background()); n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the outbox is not empty 10 s after the schedules stopped")
		}
	}
	list, _, err := replicas[1].srv.Core.Pushes(context.Background(), mockserver.PushQuery{Platform: "tp-key", Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	got := rcv.receivedBodies()
	if len(list) < 3 || len(got) != len(list) {
		t.Fatalf("%d tickets in the log, %d received; want at least 3, each received once", len(list), len(got))
	}
	if periods := int(elapsed/time.Second) + 1; len(list) > periods {
		t.Errorf("%d tickets in %s at one a second; want at most %d (one a period across replicas)", len(list), elapsed, periods)
	}
	sent := map[string]bool{}
	for _, p := range list {
		if p.Status != mockserver.PushDelivered || len(p.Attempts) != 1 {
			t.Errorf("ticket %d: %s after %d attempts; want delivered after 1", p.MsgID, p.Status, len(p.Attempts))
			continue
		}
		sent[p.Attempts[0].Push.Request.Body] = true
	}
	for _, b := range got {
		if !sent[b] {
			t.Errorf("the platform received %q, which no ticket of the log sent", b)
		}
	}
}
