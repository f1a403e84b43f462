package sandbox_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/internal/testenv"
	"github.com/smartappmock/smartappmock/internal/teststores"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/mockserver/sandbox"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
	"github.com/smartappmock/smartappmock/store/redisstore"
	"github.com/smartappmock/smartappmock/store/redisstore/redistest"
)

// TestTwoServersOnOneMemoryStore runs the two-server cases (replicas_test.go): replicas of the
// sandbox sharing one in-memory store.
func TestTwoServersOnOneMemoryStore(t *testing.T) {
	runReplicas(t, func(*testing.T) store.Store { return memstore.New(100) })
}

// newReplica builds one sandbox on st, with its admin API open, for runReplicas.
func newReplica(t *testing.T, st store.Store, cfg *config.Config) http.Handler {
	t.Helper()
	sb, err := sandbox.New(mockserver.Options{Config: cfg, Store: st}, admin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return sb
}

// TestTwoServersOnOneRedisStore runs the two-server cases on Redis (miniredis, and a
// redis-server of the test's own).
func TestTwoServersOnOneRedisStore(t *testing.T) {
	open := func(t *testing.T, url string) store.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := redisstore.Open(ctx, url, redisstore.Options{Prefix: fmt.Sprintf("sandbox-test:%d:", prefixes.Add(1))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return teststores.Patient(s)
	}
	t.Run("Miniredis", func(t *testing.T) {
		runReplicas(t, func(t *testing.T) store.Store { return open(t, "redis://"+miniredis.RunT(t).Addr()) })
	})
	t.Run("RedisServer", func(t *testing.T) {
		testenv.SkipIfShort(t, "starts redis-server")
		url := redistest.Start(t).URL()
		runReplicas(t, func(t *testing.T) store.Store { return open(t, url) })
	})
}

// prefixes keeps the stores of one redis-server apart.
var prefixes atomic.Int64
