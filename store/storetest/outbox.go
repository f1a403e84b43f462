package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/store"
)

// RunOutbox runs the conformance cases of store.Outbox: newStore must return an empty store that
// implements it. Leases run on the real clock (Redis's idle times cannot be faked), so the
// expiry cases wait a few tens of milliseconds. Every consumer of one store claims with the same
// lease (on Redis the claimer's lease judges whether the holder's expired).
func RunOutbox(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	outbox := func(t *testing.T) (store.Store, store.Outbox) {
		t.Helper()
		s := newStore(t)
		o, ok := s.(store.Outbox)
		if !ok {
			t.Fatalf("%T does not implement store.Outbox", s)
		}
		return s, o
	}
	enqueue := func(t *testing.T, o store.Outbox, jobs ...string) []string {
		t.Helper()
		var ids []string
		for _, j := range jobs {
			id, err := o.Enqueue(ctx, []byte(j))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		return ids
	}
	claim := func(t *testing.T, o store.Outbox, consumer string, lease time.Duration, max int) []store.Claimed {
		t.Helper()
		got, err := o.Claim(ctx, consumer, lease, max)
		if err != nil {
			t.Fatalf("Claim(%s): %v", consumer, err)
		}
		return got
	}
	jobsOf := func(cs []store.Claimed) []string {
		var out []string
		for _, c := range cs {
			n := "1"
			if c.Claims > 1 {
				n = "again"
			} else if c.Claims < 1 {
				n = fmt.Sprint(c.Claims)
			}
			out = append(out, fmt.Sprintf("%s/%s", c.Job, n))
		}
		return out
	}
	depth := func(t *testing.T, o store.Outbox) int {
		t.Helper()
		n, err := o.OutboxDepth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("Outbox_ClaimOldestFirstFinishKeepsResult", func(t *testing.T) {
		_, o := outbox(t)
		if got := claim(t, o, "a", time.Hour, 5); len(got) != 0 {
			t.Fatalf("Claim of an empty outbox = %v", jobsOf(got))
		}
		ids := enqueue(t, o, "j1", "j2", "j3")
		if ids[0] == ids[1] || ids[1] == ids[2] {
			t.Fatalf("Enqueue gave ids %v, want them distinct", ids)
		}
		if got := jobsOf(claim(t, o, "a", time.Hour, 2)); fmt.Sprint(got) != "[j1/1 j2/1]" {
			t.Errorf("first Claim = %v, want [j1/1 j2/1]", got)
		}
		if got := jobsOf(claim(t, o, "a", time.Hour, 2)); fmt.Sprint(got) != "[j3/1]" {
			t.Errorf("second Claim = %v, want [j3/1]", got)
		}
		if got := claim(t, o, "b", time.Hour, 2); len(got) != 0 {
			t.Errorf("Claim with every lease held = %v, want none", jobsOf(got))
		}
		if n := depth(t, o); n != 3 {
			t.Errorf("OutboxDepth = %d, want 3 (claimed jobs count until finished)", n)
		}
		if _, ok, err := o.Result(ctx, ids[0]); ok || err != nil {
			t.Errorf("Result before Finish = ok %v, err %v; want none", ok, err)
		}
		if err := o.Finish(ctx, ids[0], []byte("r1"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := o.Finish(ctx, ids[0], []byte("r1"), time.Hour); err != nil {
			t.Errorf("second Finish: %v, want it harmless", err)
		}
		if r, ok, err := o.Result(ctx, ids[0]); !ok || err != nil || string(r) != "r1" {
			t.Errorf("Result = %q, %v, %v; want r1", r, ok, err)
		}
		if n := depth(t, o); n != 2 {
			t.Errorf("OutboxDepth after Finish = %d, want 2", n)
		}
		if ok, err := o.Extend(ctx, "a", ids[0], time.Hour); ok || err != nil {
			t.Errorf("Extend of a finished job = %v, %v; want false", ok, err)
		}
	})
	t.Run("Outbox_ExpiredLeaseClaimedByAnother", func(t *testing.T) {
		_, o := outbox(t)
		ids := enqueue(t, o, "j1")
		lease := 30 * time.Millisecond
		if got := jobsOf(claim(t, o, "a", lease, 1)); fmt.Sprint(got) != "[j1/1]" {
			t.Fatalf("Claim = %v", got)
		}
		time.Sleep(3 * lease)
		got := claim(t, o, "b", lease, 1)
		if fmt.Sprint(jobsOf(got)) != "[j1/again]" || got[0].ID != ids[0] {
			t.Fatalf("Claim after the lease expired = %v, want [j1/again] (the same job, claimed twice)", jobsOf(got))
		}
		if ok, err := o.Extend(ctx, "a", ids[0], time.Hour); ok || err != nil {
			t.Errorf("Extend by the consumer that lost the lease = %v, %v; want false", ok, err)
		}
		if ok, err := o.Extend(ctx, "b", ids[0], time.Hour); !ok || err != nil {
			t.Errorf("Extend by the holder = %v, %v; want true", ok, err)
		}
		if got := claim(t, o, "c", lease, 1); len(got) != 0 {
			t.Errorf("Claim of a job just extended = %v, want none", jobsOf(got))
		}
	})
	t.Run("Outbox_ExtendKeepsTheLease", func(t *testing.T) {
		_, o := outbox(t)
		ids := enqueue(t, o, "j1")
		lease := 400 * time.Millisecond
		claim(t, o, "a", lease, 1)
		for range 3 {
			time.Sleep(lease / 2)
			if ok, err := o.Extend(ctx, "a", ids[0], lease); !ok || err != nil {
				t.Fatalf("Extend = %v, %v", ok, err)
			}
		}
		// 1.5 leases after the claim: without the extensions it would be free.
		if got := claim(t, o, "b", lease, 1); len(got) != 0 {
			t.Errorf("Claim of a job whose lease was renewed = %v, want none", jobsOf(got))
		}
	})
	t.Run("Outbox_ReleaseFreesAtOnce_OnlyByTheHolder", func(t *testing.T) {
		_, o := outbox(t)
		ids := enqueue(t, o, "j1")
		claim(t, o, "a", time.Hour, 1)
		if err := o.Release(ctx, "b", ids[0]); err != nil {
			t.Fatal(err)
		}
		if got := claim(t, o, "b", time.Hour, 1); len(got) != 0 {
			t.Fatalf("Release by a consumer that does not hold the job freed it: %v", jobsOf(got))
		}
		if err := o.Release(ctx, "a", ids[0]); err != nil {
			t.Fatal(err)
		}
		if got := jobsOf(claim(t, o, "b", time.Hour, 1)); fmt.Sprint(got) != "[j1/again]" {
			t.Errorf("Claim after Release = %v, want [j1/again]", got)
		}
	})
	t.Run("Outbox_ConcurrentClaimsTakeEachJobOnce", func(t *testing.T) {
		_, o := outbox(t)
		const jobs = 60
		for i := range jobs {
			enqueue(t, o, fmt.Sprintf("j%d", i))
		}
		var mu sync.Mutex
		taken := map[string]string{}
		var wg sync.WaitGroup
		for c := range 5 {
			wg.Go(func() {
				consumer := fmt.Sprintf("c%d", c)
				for {
					got, err := o.Claim(ctx, consumer, time.Hour, 3)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, g := range got {
						if prev, ok := taken[g.ID]; ok {
							t.Errorf("job %s claimed by %s and by %s while the lease held", g.Job, prev, consumer)
						}
						taken[g.ID] = consumer
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(taken) != jobs {
			t.Errorf("%d jobs claimed, want %d", len(taken), jobs)
		}
	})
	t.Run("Outbox_SurvivesReset", func(t *testing.T) {
		s, o := outbox(t)
		enqueue(t, o, "j1")
		if err := s.Reset(ctx, "", store.Seed{}); err != nil {
			t.Fatal(err)
		}
		if got := jobsOf(claim(t, o, "a", time.Hour, 1)); fmt.Sprint(got) != "[j1/1]" {
			t.Errorf("Claim after Reset = %v, want the job kept", got)
		}
	})
}
