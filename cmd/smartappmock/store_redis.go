//go:build !noredis

package main

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/redisstore"
)

// openRedis opens a Redis store that answered a PING within storeOpenTimeout. go-redis's own log
// lines (a failed dial, …) go to log: it has one logger for the whole process, and the command
// has one store.
func openRedis(ctx context.Context, url string, journalCap int, log redisLog) (store.Store, func() error, error) {
	redis.SetLogger(log)
	ctx, cancel := context.WithTimeout(ctx, storeOpenTimeout)
	defer cancel()
	st, err := redisstore.Open(ctx, url, redisstore.Options{JournalCap: journalCap})
	if err != nil {
		return nil, nil, err
	}
	return st, st.Close, nil
}

// checkRedisURL parses a Redis store URL as the store will, without dialling.
func checkRedisURL(raw string) error {
	_, err := redis.ParseURL(raw)
	return err
}
