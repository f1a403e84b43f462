package storetest_test

import (
	"testing"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
	"github.com/smartappmock/smartappmock/store/storetest"
)

func TestRunShared_Memory(t *testing.T) {
	storetest.RunShared(t, func(*testing.T) (store.Store, store.Store) {
		m := memstore.New(10)
		return m, m
	})
}
