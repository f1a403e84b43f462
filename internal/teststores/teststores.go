// Package teststores gives the fake's outcome tables every kind of store to run on: in memory, on
// miniredis and on a redis-server of the test's own, so that the API core's one decision is
// checked over each store's primitives. It is for tests only.
package teststores

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/smartappmock/smartappmock/internal/testenv"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/guard"
	"github.com/smartappmock/smartappmock/store/memstore"
	"github.com/smartappmock/smartappmock/store/redisstore"
	"github.com/smartappmock/smartappmock/store/redisstore/redistest"
)

// Kind is one kind of store.
type Kind struct {
	// Name names the kind in the subtest: "Memory", "Miniredis" or "RedisServer".
	Name string
	// Open returns a fresh, empty store for one test, closed when the test ends.
	Open func(t *testing.T) store.Store
}

// Each runs run once per kind of store, as a subtest named after the kind. The real Redis kind
// starts one redis-server for its subtest (skipped without redis-server or under -short, failed
// under CI=true); each store opened on it has a key prefix of its own.
func Each(t *testing.T, run func(t *testing.T, k Kind)) {
	t.Helper()
	var server *redistest.Server
	kinds := []Kind{
		{"Memory", func(t *testing.T) store.Store { return memstore.New(0) }},
		{"Miniredis", func(t *testing.T) store.Store { return OpenRedis(t, "redis://"+miniredis.RunT(t).Addr()) }},
		{"RedisServer", func(t *testing.T) store.Store { return OpenRedis(t, server.URL()) }},
	}
	for _, k := range kinds {
		t.Run(k.Name, func(t *testing.T) {
			if k.Name == "RedisServer" {
				testenv.SkipIfShort(t, "starts redis-server")
				server = redistest.Start(t)
			}
			run(t, k)
		})
	}
}

// prefixes keeps the stores of one redis-server apart.
var prefixes atomic.Int64

// OpenRedis opens a Redis store at url with a key prefix of its own, on the caller's clock (see
// CallerClock), closed when t ends.
func OpenRedis(t *testing.T, url string) store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := redisstore.Open(ctx, url, redisstore.Options{Prefix: fmt.Sprintf("test-store:%d:", prefixes.Add(1))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return Patient(CallerClock{Store: s, Pusher: s})
}

// PatientDeadline is the store deadline of Patient: long, so that a test machine under load
// (the race detector, miniredis's Lua) never turns a slow answer into error_code 2. The tests of
// the deadline itself set theirs.
const PatientDeadline = 30 * time.Second

// Patient returns st guarded (store/guard) with PatientDeadline: a server built on it keeps
// that guard instead of one with the product's default deadline.
func Patient(st store.Store) store.Store {
	g, _ := guard.New(st, guard.Options{Deadline: PatientDeadline})
	return g
}

// CallerClock is a store on the fake's clock rather than its own (Redis's TIME): outcome tables
// move time by hand, which no replica's clock would see. It hides only the store's clock
// (Lookup.Now, and store.Clock); every primitive is the wrapped store's.
type CallerClock struct {
	store.Store
	store.Pusher
}

// Lookup is the wrapped store's, without its clock.
func (c CallerClock) Lookup(ctx context.Context, token, fallback string) (store.Lookup, error) {
	return c.LookupWith(ctx, token, fallback, store.RecordKey{})
}

// LookupWith is the wrapped store's, without its clock.
func (c CallerClock) LookupWith(ctx context.Context, token, fallback string, probe store.RecordKey) (store.Lookup, error) {
	lk, err := c.Store.LookupWith(ctx, token, fallback, probe)
	lk.Now = time.Time{}
	return lk, err
}
