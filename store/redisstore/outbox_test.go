package redisstore

import (
	"testing"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/storetest"
)

func TestOutboxConformance_Miniredis(t *testing.T) {
	storetest.RunOutbox(t, func(t *testing.T) store.Store {
		s, _ := miniT(t, Options{JournalCap: journalCap})
		return s
	})
}

func TestOutboxConformance_RedisServer(t *testing.T) {
	url := realRedisURL(t)
	storetest.RunOutbox(t, func(t *testing.T) store.Store {
		return openT(t, url, Options{JournalCap: journalCap, Prefix: testPrefix()})
	})
}
