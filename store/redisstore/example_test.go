package redisstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/redisstore"
)

// Two stores on one Redis are two replicas: a window's replies are counted once across them.
func ExampleOpen() {
	ctx := context.Background()
	m, err := miniredis.Run() // a real deployment passes redis://host:6379/0 or unix:///run/redis.sock
	if err != nil {
		panic(err)
	}
	defer m.Close()
	replica1, err := redisstore.Open(ctx, "redis://"+m.Addr()+"/0", redisstore.Options{})
	if err != nil {
		panic(err)
	}
	defer replica1.Close()
	replica2, err := redisstore.Open(ctx, "redis://"+m.Addr()+"/0", redisstore.Options{})
	if err != nil {
		panic(err)
	}
	defer replica2.Close()

	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rule := store.WindowRule{Duration: 48 * time.Hour, MaxReplies: 5}
	replica1.OpenWindow(ctx, "app", "user", now)
	for i := range 6 {
		s := []store.Store{replica1, replica2}[i%2]
		d, err := s.TakeReply(ctx, "app", "user", now.Add(time.Minute), rule)
		if err != nil {
			panic(err)
		}
		fmt.Printf("replica %d: ok %v, refusal %d, replies %d\n", i%2+1, d.OK, d.Refusal, d.Window.Replies)
	}
	// Output:
	// replica 1: ok true, refusal 0, replies 1
	// replica 2: ok true, refusal 0, replies 2
	// replica 1: ok true, refusal 0, replies 3
	// replica 2: ok true, refusal 0, replies 4
	// replica 1: ok true, refusal 0, replies 5
	// replica 2: ok false, refusal 3, replies 5
}
