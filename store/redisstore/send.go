package redisstore

import (
	"context"

	"github.com/smartappmock/smartappmock/store"
)

// Send implements store.Store.
func (s *Store) Send(ctx context.Context, in store.SendInput) (store.SendResult, error) {
	return store.SendSteps(ctx, s, in)
}
