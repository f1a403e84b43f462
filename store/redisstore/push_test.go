package redisstore

import (
	"testing"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/storetest"
)

func TestPushConformance_Miniredis(t *testing.T) {
	storetest.RunPush(t, func(t *testing.T) store.Store {
		s, _ := miniT(t, Options{JournalCap: journalCap})
		return s
	})
}
