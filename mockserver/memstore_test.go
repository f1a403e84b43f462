package mockserver_test

import (
	"testing"

	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, 10, func(*testing.T) mockserver.Store { return mockserver.NewMemoryStore(10) })
}
