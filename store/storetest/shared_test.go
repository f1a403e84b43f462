package storetest_test

import (
	"testing"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/storetest"
)

func TestRunShared_Memory(t *testing.T) {
	storetest.RunShared(t, func(*testing.T) (store.Store, store.Store) {
		m := store.NewMemory(10)
		return m, m
	})
}
