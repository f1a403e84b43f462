package memstore_test

import (
	"testing"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
	"github.com/smartappmock/smartappmock/store/storetest"
)

func TestOutboxConformance_Memory(t *testing.T) {
	storetest.RunOutbox(t, func(t *testing.T) store.Store { return memstore.New(10) })
}
