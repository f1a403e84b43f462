package redisstore

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/smartappmock/smartappmock/store/redisstore/redistest"
)

// startRedisServer starts a redis-server for t (skipping or failing t without one).
func startRedisServer(t testing.TB) *redistest.Server {
	t.Helper()
	return redistest.Start(t)
}

// testPrefixRoot starts the key prefixes of the tests.
const testPrefixRoot = "smartappmock-test:"

// prefixes makes the key prefixes of stores that share one Redis unique.
var prefixes atomic.Int64

// testPrefix returns a prefix no other store of this test binary (or an earlier run on a shared
// Redis) uses.
func testPrefix() string {
	return fmt.Sprintf("%s%d-%d:", testPrefixRoot, time.Now().UnixNano(), prefixes.Add(1))
}

// realRedisURL returns the URL of a real Redis for t: SMARTAPPMOCK_TEST_REDIS when CI started
// one, else a redis-server of t's own.
func realRedisURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("SMARTAPPMOCK_TEST_REDIS"); u != "" {
		return u
	}
	return startRedisServer(t).URL()
}

// openT opens a store for t and closes it at t's cleanup.
func openT(t testing.TB, url string, opts Options) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if strings.HasPrefix(opts.Prefix, testPrefixRoot) { // a Redis that other tests share
			dropKeys(s)
		}
		s.Close()
	})
	return s
}

// dropKeys deletes the keys of s's prefix (the prefixes of the tests have no glob characters).
func dropKeys(s *Store) {
	ctx := context.Background()
	it := s.rdb.Scan(ctx, 0, s.opts.Prefix+"*", 1000).Iterator()
	for it.Next(ctx) {
		s.rdb.Del(ctx, it.Val())
	}
}

// miniT opens a store on a miniredis of t's own.
func miniT(t testing.TB, opts Options) (*Store, *miniredis.Miniredis) {
	t.Helper()
	m := miniredis.RunT(t)
	return openT(t, "redis://"+m.Addr(), opts), m
}

// newAuthMini starts a miniredis that requires user and password.
func newAuthMini(t testing.TB, user, password string) *miniredis.Miniredis {
	m := miniredis.RunT(t)
	m.RequireUserAuth(user, password)
	return m
}
