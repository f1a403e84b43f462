package redisstore

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/redisstore/redistest"
)

// TestReset_100kApps_OthersKeepAnsweringWithinTheDeadline fills a store with 100,000 sandbox
// apps (each with an app hash, a window and a journal entry), then resets every app while
// another handle on the same Redis takes replies and looks tokens up without pause: no call of
// theirs waits a second (the fake's default store deadline), the reset works in short steps and
// answers no error, and only the configured app is left.
func TestReset_100kApps_OthersKeepAnsweringWithinTheDeadline(t *testing.T) {
	const apps = 100_000
	srv := redistest.Start(t)
	ctx := context.Background()
	s, err := Open(ctx, srv.URL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := Open(ctx, srv.URL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	seed := store.Seed{At: time.Now(), Apps: []store.App{{ID: "cfg", Source: "config", Capability: true}},
		Tokens: []store.Token{{Value: "static", App: "cfg"}}}
	if err := s.Seed(ctx, seed); err != nil {
		t.Fatal(err)
	}
	for from := 0; from < apps; from += 5000 {
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := from; i < from+5000; i++ {
				id := "sb-" + strconv.Itoa(i)
				p.ZAdd(ctx, s.registry, redis.Z{Member: id})
				p.HSet(ctx, s.akey(id, "meta"), "reg", "1", "appended", "1")
				p.HSet(ctx, s.akey(id, "app"), "id", id, "source", "sandbox-token", "cap", "1", "offset", "0")
				p.HSet(ctx, s.akey(id, "win"), "u", "1 0 1 0")
				p.XAdd(ctx, &redis.XAddArgs{Stream: s.akey(id, "jrn"), ID: strconv.Itoa(i+1) + "-0", Values: []any{"e", `{"id":"x"}`}})
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}

	rule := store.WindowRule{Duration: time.Hour, MaxReplies: 1 << 30, OpenOnFirst: true}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	calls, failed := 0, 0
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				_, err1 := other.Lookup(ctx, "static", "")
				_, err2 := other.TakeReply(ctx, "cfg", "u", time.Now(), rule)
				took := time.Since(start)
				mu.Lock()
				calls++
				if err1 != nil || err2 != nil {
					failed++
				}
				slowest = max(slowest, took)
				mu.Unlock()
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	err = s.Reset(ctx, "", seed)
	resetTook := time.Since(start)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Reset of %d apps: %v", apps, err)
	}
	if failed > 0 || slowest >= time.Second {
		t.Errorf("during the reset: %d of %d lookup-and-take pairs failed, the slowest took %s; want none failed, each within 1s", failed, calls, slowest)
	}
	left, _ := s.Apps(ctx)
	if len(left) != 1 || left[0].ID != "cfg" {
		t.Errorf("apps after the reset: %d (first %v), want only the configured one", len(left), left[:min(len(left), 3)])
	}
	keys, err := s.rdb.DBSize(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if keys > 50 {
		t.Errorf("Redis holds %d keys after the reset, want only the configured state's", keys)
	}
	t.Logf("reset of %d apps took %s; meanwhile %d lookup-and-take pairs on another handle, the slowest %s; %d keys left", apps, resetTook, calls, slowest, keys)
}
