package redisstore

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// The push keys (store.Pusher), with a hash tag of their own:
//
//	{push}:cfg    hash    app id -> the app's push configuration (empty: push off)
//	{push}:msgid  string  the last MsgId counter value given (never reset)
//
// Reset does not touch them (store.Pusher says why).

func (s *Store) pushKey(kind string) string { return s.opts.Prefix + "{push}:" + kind }

// PutPush implements store.Pusher.
func (s *Store) PutPush(ctx context.Context, app string, cfg []byte) error {
	return wrap("put push", s.rdb.HSet(ctx, s.pushKey("cfg"), app, cfg).Err())
}

// Push implements store.Pusher.
func (s *Store) Push(ctx context.Context, app string) ([]byte, bool, error) {
	b, err := s.rdb.HGet(ctx, s.pushKey("cfg"), app).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, wrap("push", err)
	}
	return b, true, nil
}

// DeletePush implements store.Pusher.
func (s *Store) DeletePush(ctx context.Context, app string) error {
	return wrap("delete push", s.rdb.HDel(ctx, s.pushKey("cfg"), app).Err())
}

// NextMsgID implements store.Pusher.
func (s *Store) NextMsgID(ctx context.Context) (uint64, error) {
	n, err := s.rdb.Incr(ctx, s.pushKey("msgid")).Uint64()
	if err != nil {
		return 0, wrap("next msg id", err)
	}
	return n, nil
}
