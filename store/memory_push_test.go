package store_test

import (
	"testing"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/storetest"
)

func TestPushConformance_Memory(t *testing.T) {
	storetest.RunPush(t, func(t *testing.T) store.Store { return store.NewMemory(10) })
}
