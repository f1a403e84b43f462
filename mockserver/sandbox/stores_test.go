package sandbox

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
	"github.com/smartappmock/smartappmock/store/redisstore"
	"github.com/smartappmock/smartappmock/store/redisstore/redistest"
)

// storeKind is one of the stores the fake's outcome tables run on.
type storeKind struct {
	name string
	// open returns a fresh store for one test.
	open func(t *testing.T) store.Store
}

// setup is the package's setup on this kind of store.
func (k storeKind) setup(t *testing.T, yamlConfig string) *fixture {
	t.Helper()
	return k.setupOpts(t, yamlConfig, nil)
}

// setupOpts is the package's setupOpts on this kind of store.
func (k storeKind) setupOpts(t *testing.T, yamlConfig string, change func(*mockserver.Options)) *fixture {
	t.Helper()
	return setupOpts(t, yamlConfig, func(o *mockserver.Options) {
		if o.Store == nil {
			o.Store = k.open(t)
		}
		if change != nil {
			change(o)
		}
	})
}

// eachStore runs an outcome table on every kind of store: in memory, on miniredis and on a
// redis-server of the test's own (skipped without one, failed under CI=true), so that the one
// decision of the core gives the same answers over every store's primitives.
func eachStore(t *testing.T, run func(t *testing.T, k storeKind)) {
	t.Helper()
	var server *redistest.Server // one redis-server for the table, started when its turn comes
	kinds := []storeKind{
		{"Memory", func(t *testing.T) store.Store { return memstore.New(0) }},
		{"Miniredis", func(t *testing.T) store.Store { return openRedis(t, "redis://"+miniredis.RunT(t).Addr()) }},
		{"RedisServer", func(t *testing.T) store.Store { return openRedis(t, server.URL()) }},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			if k.name == "RedisServer" {
				server = redistest.Start(t)
			}
			run(t, k)
		})
	}
}

// openRedis opens a Redis store of its own key prefix for t, on the caller's clock.
func openRedis(t *testing.T, url string) store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := redisstore.Open(ctx, url, redisstore.Options{Prefix: fmt.Sprintf("sandbox-test:%d:", storePrefixes.Add(1))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return callerClock{Store: s, Pusher: s}
}

// callerClock is a Redis store on the fake's clock rather than its own (Redis's TIME): the
// outcome tables move time by hand, as a replica's clock would never move. It hides only the
// store's clock (Lookup.Now and store.Clock); every primitive is the Redis store's.
type callerClock struct {
	store.Store
	store.Pusher
}

// Lookup is the Redis store's, without its clock.
func (c callerClock) Lookup(ctx context.Context, token, fallback string) (store.Lookup, error) {
	lk, err := c.Store.Lookup(ctx, token, fallback)
	lk.Now = time.Time{}
	return lk, err
}

// storePrefixes keeps the stores of one redis-server apart.
var storePrefixes atomic.Int64
