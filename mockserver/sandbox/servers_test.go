package sandbox_test

import (
	"net/http"
	"testing"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/mockserver/sandbox"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/storetest"
)

// TestTwoServersOnOneMemoryStore runs the conformance suite's two-server cases: replicas of the
// sandbox sharing one in-memory store.
func TestTwoServersOnOneMemoryStore(t *testing.T) {
	storetest.RunServers(t, func(*testing.T) store.Store { return store.NewMemory(100) }, NewReplica)
}

// NewReplica builds one sandbox on st, for storetest.RunServers.
func NewReplica(t *testing.T, st store.Store, cfg *config.Config) http.Handler {
	t.Helper()
	sb, err := sandbox.New(mockserver.Options{Config: cfg, Store: st}, admin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return sb
}
