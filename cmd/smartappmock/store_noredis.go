//go:build noredis

package main

import (
	"context"
	"errors"

	"github.com/smartappmock/smartappmock/store"
)

// errNoRedis says why a build without Redis refuses a Redis store.
var errNoRedis = errors.New("this build has no Redis store: it was built with -tags noredis, which leaves the Redis client out (2 MB); build without it (the Docker image has the client), or install with go install")

// openRedis refuses: this build leaves the Redis client out.
func openRedis(context.Context, string, int, redisLog) (store.Store, func() error, error) {
	return nil, nil, errNoRedis
}

// checkRedisURL accepts every URL checkStoreURL let through: this build opens no Redis store, and
// says so when asked to (errNoRedis).
func checkRedisURL(string) error { return nil }
