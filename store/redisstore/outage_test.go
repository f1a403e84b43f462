package redisstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/store"
)

// outageOps are the store's operations, each run with a short context.
func outageOps(s *Store) []struct {
	name string
	run  func(ctx context.Context) error
} {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rule := store.WindowRule{Duration: time.Hour, MaxReplies: 5, OpenOnFirst: true}
	return []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"Ping", s.Ping},
		{"RegisterApp", func(ctx context.Context) error {
			_, _, err := s.RegisterApp(ctx, store.App{ID: "a", Capability: true})
			return err
		}},
		{"TakeReply", func(ctx context.Context) error {
			_, err := s.TakeReply(ctx, "a", "u", t0, rule)
			return err
		}},
		{"Lookup", func(ctx context.Context) error { _, err := s.Lookup(ctx, "24.x", "a"); return err }},
		{"TakeCounts", func(ctx context.Context) error {
			_, err := s.TakeCounts(ctx, []store.Take{{App: "a", Name: "qps", Period: "1", Limit: 10}})
			return err
		}},
		{"TakeCount", func(ctx context.Context) error {
			_, _, err := s.TakeCount(ctx, "a", "daily", "d1", 10)
			return err
		}},
		{"TakeFault", func(ctx context.Context) error {
			_, err := s.TakeFault(ctx, 1, store.PlanID{}, store.FaultPolicy{})
			return err
		}},
		{"Token", func(ctx context.Context) error { _, _, err := s.Token(ctx, "24.x"); return err }},
		{"Rules", func(ctx context.Context) error { _, err := s.Rules(ctx); return err }},
		{"Append", func(ctx context.Context) error {
			_, err := s.Append(ctx, store.Entry{App: "a", ID: "r1"})
			return err
		}},
		{"Journal", func(ctx context.Context) error { _, err := s.Journal(ctx, store.Query{Limit: 5}); return err }},
		{"Feed", func(ctx context.Context) error { _, err := s.Feed(ctx, 0, 5); return err }},
		{"Seed", func(ctx context.Context) error { return s.Seed(ctx, store.Seed{At: t0}) }},
		{"Reset", func(ctx context.Context) error { return s.Reset(ctx, "", store.Seed{At: t0}) }},
	}
}

// checkOutage stops Redis (stop), checks that every operation answers an error, starts Redis
// again (start) and checks that the same store works again without being reopened (except the
// operations in skipAfter).
func checkOutage(t *testing.T, s *Store, stop, start func(), skipAfter ...string) {
	ops := outageOps(s)
	stop()
	for _, op := range ops {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := op.run(ctx)
		cancel()
		if err == nil {
			t.Errorf("%s with Redis stopped: no error", op.name)
		}
	}
	start()
	deadline := time.Now().Add(15 * time.Second)
	for s.Ping(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the store does not answer 15s after Redis started again")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, op := range ops {
		if slices.Contains(skipAfter, op.name) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := op.run(ctx) // Feed finds Append's entry
		cancel()
		if err != nil {
			t.Errorf("%s after Redis came back: %v", op.name, err)
		}
	}
}

func TestOutage_ErrorsThenRecovers(t *testing.T) {
	t.Run("RedisServer_StoppedAndRestartedOnTheSameSocket", func(t *testing.T) {
		r := startRedisServer(t)
		s := openT(t, r.URL(), Options{})
		checkOutage(t, s, r.Stop, r.Start)
	})
	t.Run("Miniredis_ClosedAndRestarted", func(t *testing.T) {
		s, m := miniT(t, Options{})
		// A restarted miniredis never answers a blocking command again (Close ends the
		// context its XREAD BLOCK waits on, and Restart does not renew it): Feed is checked on
		// the real server only.
		checkOutage(t, s, m.Close, func() {
			if err := m.Restart(); err != nil {
				t.Fatal(err)
			}
		}, "Feed")
	})
}
