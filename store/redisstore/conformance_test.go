package redisstore

import (
	"testing"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/storetest"
)

// journalCap is the journal cap of the conformance runs.
const journalCap = 10

func TestConformance_Miniredis(t *testing.T) {
	storetest.Run(t, journalCap, func(t *testing.T) store.Store {
		s, _ := miniT(t, Options{JournalCap: journalCap})
		return s
	})
}

func TestConformance_RedisServer(t *testing.T) {
	url := realRedisURL(t)
	storetest.Run(t, journalCap, func(t *testing.T) store.Store {
		return openT(t, url, Options{JournalCap: journalCap, Prefix: testPrefix()})
	})
}

func TestShared_Miniredis(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		a, m := miniT(t, Options{JournalCap: journalCap})
		return a, openT(t, "redis://"+m.Addr(), Options{JournalCap: journalCap})
	})
}

func TestShared_RedisServer(t *testing.T) {
	url := realRedisURL(t)
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		opts := Options{JournalCap: journalCap, Prefix: testPrefix()}
		return openT(t, url, opts), openT(t, url, opts)
	})
}

func TestRecordsBound_Miniredis(t *testing.T) {
	storetest.RunRecordsBound(t, 3, func(t *testing.T) store.Store {
		s, _ := miniT(t, Options{MaxRecordsPerApp: 3})
		return s
	})
}
