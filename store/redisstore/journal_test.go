package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
)

// TestJournal_SameAsMemory appends the same entries to the in-memory store and to a Redis store
// and checks that every query answers the same entries.
func TestJournal_SameAsMemory(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New(100)
	rs, _ := miniT(t, Options{JournalCap: 100})
	for i := range 250 { // app a overflows its cap of 100
		e := store.Entry{ID: fmt.Sprint(i), App: []string{"a", "a", "b", store.NoApp}[i%4], OpenID: fmt.Sprint("u", i%7), Layer: "business"}
		switch i % 5 {
		case 1:
			e.Code = 90001
		case 2:
			e.Layer, e.Code = "gateway", 110
		case 3:
			e.Layer, e.Code, e.OAuthError = "oauth", 401, "invalid_client"
		}
		for _, s := range []store.Store{mem, rs} {
			if _, err := s.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, q := range []store.Query{
		{}, {Limit: 7}, {App: "a"}, {App: "a", Limit: 3}, {App: store.NoApp, Limit: 5},
		{OpenID: "u3", Limit: 9}, {Outcome: "90001"}, {Outcome: "ok", Limit: 70}, {Outcome: "error", App: "b", Limit: 4},
		{Outcome: "invalid_client", Before: 200, Limit: 6}, {After: 230}, {After: 100, Before: 120},
		{Before: 150, Limit: 10, OpenID: "u1"}, {After: 249}, {Before: 1}, {App: "missing"},
	} {
		t.Run(fmt.Sprintf("%+v", q), func(t *testing.T) {
			want, err := mem.Journal(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			got, err := rs.Journal(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(seqs(want), seqs(got)); diff != "" {
				t.Errorf("Journal() sequence numbers (-memory +redis):\n%s", diff)
			}
		})
	}
	for _, app := range []string{"a", "b", store.NoApp} {
		mh, md, _ := mem.JournalStats(ctx, app)
		rh, rd, _ := rs.JournalStats(ctx, app)
		if mh != rh || md != rd {
			t.Errorf("JournalStats(%q): memory %d held %d dropped, redis %d held %d dropped", app, mh, md, rh, rd)
		}
	}
}

// seqs lists the entries' sequence numbers and ids.
func seqs(es []store.Entry) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, fmt.Sprint(e.Seq, ":", e.ID))
	}
	return out
}

func TestFeed_CanceledContextEndsTheWait(t *testing.T) {
	s, _ := miniT(t, Options{FeedPoll: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background()) // no deadline: only the poll bounds a wait
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, err := s.Feed(ctx, 0, 10)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Feed after cancel: %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Feed returned %v after the cancel, want within a poll", d)
	}
}

func TestFeed_CursorAboveHeadAfterDataLossReadsTheNewEntries(t *testing.T) {
	ctx := context.Background()
	s, m := miniT(t, Options{FeedPoll: 20 * time.Millisecond})
	for range 3 {
		s.Append(ctx, store.Entry{App: "a"})
	}
	m.FlushAll() // what a restart without persistence leaves
	seq, err := s.Append(ctx, store.Entry{ID: "after-loss", App: "a"})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	es, err := s.Feed(cctx, 3, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].ID != "after-loss" || es[0].Seq != seq {
		t.Errorf("Feed(3) after data loss = %+v, want the new entry %d", es, seq)
	}
}

func TestFeed_WaitingReadersDoNotStarveDecisions(t *testing.T) {
	m := miniredis.RunT(t)
	s := openT(t, "redis://"+m.Addr()+"/0?pool_size=2", Options{FeedConns: 8}) // 2 for decisions
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 6 { // more waiting readers than the decisions' pool holds
		wg.Go(func() { s.Feed(ctx, 1<<40, 10) })
	}
	time.Sleep(50 * time.Millisecond) // let the readers block (the check below holds without it too)
	start := time.Now()
	cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
	_, _, err := s.TakeCount(cctx, "a", "daily", "d", 0)
	ccancel()
	if err != nil {
		t.Errorf("TakeCount while 6 readers wait: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("TakeCount took %v while readers waited, want no wait for a connection", d)
	}
	cancel()
	wg.Wait()
}
