package store_test

import (
	"testing"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, 10, func(*testing.T) store.Store { return store.NewMemory(10) })
}
