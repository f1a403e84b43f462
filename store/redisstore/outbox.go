package redisstore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock/store"
)

// The outbox (store.Outbox), under the push keys' hash tag so that one script may touch the
// stream and a result:
//
//	{push}:outbox        stream  one message per job (field j), consumer group "deliver"
//	{push}:result:<id>   string  a finished job's result, expiring
//
// A claim is XAUTOCLAIM (leases idle longer than the lease) then XREADGROUP ">" (new jobs); a
// lease is the message's idle time in the group's pending list, renewed by XCLAIM … JUSTID from
// its holder (Extend), so every replica must use the same lease. Finish acknowledges and deletes
// the message, in one script with the result. Reset does not touch these keys.

const outboxGroup = "deliver"

// releasedIdle is the idle time Release gives a message: longer than any lease.
const releasedIdle = 10 * 365 * 24 * time.Hour

var (
	// extendScript renews the lease of ARGV[3] when ARGV[2] holds it (returns 1), else 0.
	extendScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 or p[1][2] ~= ARGV[2] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', ARGV[4], 'JUSTID')
return 1`)
	// finishScript keeps the result ARGV[3] for ARGV[4] ms, acknowledges and deletes ARGV[2].
	finishScript = redis.NewScript(`
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1`)
)

// outboxCursors remembers, per store and consumer, where XAUTOCLAIM stopped, so that a long
// pending list is scanned across claims rather than from its start each time.
type outboxCursors struct {
	mu sync.Mutex
	at map[string]string
}

func (s *Store) outboxKey() string { return s.pushKey("outbox") }

func (s *Store) resultKey(id string) string { return s.pushKey("result:" + id) }

// withGroup runs f, creating the consumer group (and the stream) when Redis says it is missing
// (first use, or data lost), then runs f once more.
func (s *Store) withGroup(ctx context.Context, f func() error) error {
	err := f()
	if err == nil || !strings.HasPrefix(err.Error(), "NOGROUP") {
		return err
	}
	if cerr := s.rdb.XGroupCreateMkStream(ctx, s.outboxKey(), outboxGroup, "0").Err(); cerr != nil && !strings.HasPrefix(cerr.Error(), "BUSYGROUP") {
		return cerr
	}
	return f()
}

// Enqueue implements store.Outbox.
func (s *Store) Enqueue(ctx context.Context, job []byte) (string, error) {
	id, err := s.rdb.XAdd(ctx, &redis.XAddArgs{Stream: s.outboxKey(), Values: []any{"j", job}}).Result()
	return id, wrap("enqueue", err)
}

// Claim implements store.Outbox.
func (s *Store) Claim(ctx context.Context, consumer string, lease time.Duration, max int) ([]store.Claimed, error) {
	if max <= 0 {
		return nil, nil
	}
	var out []store.Claimed
	cur := &s.cursors
	cur.mu.Lock()
	start := cur.at[consumer]
	cur.mu.Unlock()
	if start == "" {
		start = "0-0"
	}
	var msgs []redis.XMessage
	var next string
	err := s.withGroup(ctx, func() error {
		var err error
		msgs, next, err = s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: s.outboxKey(), Group: outboxGroup,
			Consumer: consumer, MinIdle: lease, Start: start, Count: int64(max)}).Result()
		return err
	})
	if err != nil {
		return nil, wrap("claim", err)
	}
	cur.mu.Lock()
	if cur.at == nil {
		cur.at = map[string]string{}
	}
	cur.at[consumer] = next
	cur.mu.Unlock()
	for _, m := range msgs {
		n := 2 // at least: it was claimed before
		if p, err := s.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: s.outboxKey(), Group: outboxGroup,
			Start: m.ID, End: m.ID, Count: 1}).Result(); err == nil && len(p) == 1 {
			n = int(p[0].RetryCount)
		}
		out = append(out, claimedOf(m, n))
	}
	if len(out) >= max {
		return out, nil
	}
	var streams []redis.XStream
	err = s.withGroup(ctx, func() error {
		var err error
		streams, err = s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: outboxGroup, Consumer: consumer,
			Streams: []string{s.outboxKey(), ">"}, Count: int64(max - len(out)), Block: -1}).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		return err
	})
	if err != nil {
		return out, wrap("claim", err)
	}
	for _, st := range streams {
		for _, m := range st.Messages {
			out = append(out, claimedOf(m, 1))
		}
	}
	return out, nil
}

func claimedOf(m redis.XMessage, claims int) store.Claimed {
	j, _ := m.Values["j"].(string)
	return store.Claimed{ID: m.ID, Job: []byte(j), Claims: claims}
}

// Extend implements store.Outbox.
func (s *Store) Extend(ctx context.Context, consumer, id string, _ time.Duration) (bool, error) {
	n, err := extendScript.Run(ctx, s.rdb, []string{s.outboxKey()}, outboxGroup, consumer, id, 0).Int()
	if err != nil && strings.HasPrefix(err.Error(), "NOGROUP") {
		return false, nil
	}
	return n == 1, wrap("extend", err)
}

// Release implements store.Outbox.
func (s *Store) Release(ctx context.Context, consumer, id string) error {
	err := extendScript.Run(ctx, s.rdb, []string{s.outboxKey()}, outboxGroup, consumer, id, releasedIdle.Milliseconds()).Err()
	if err != nil && strings.HasPrefix(err.Error(), "NOGROUP") {
		return nil
	}
	return wrap("release", err)
}

// Finish implements store.Outbox.
func (s *Store) Finish(ctx context.Context, id string, result []byte, keep time.Duration) error {
	err := finishScript.Run(ctx, s.rdb, []string{s.outboxKey(), s.resultKey(id)}, outboxGroup, id, result,
		max(keep.Milliseconds(), 1)).Err()
	return wrap("finish", err)
}

// Result implements store.Outbox.
func (s *Store) Result(ctx context.Context, id string) ([]byte, bool, error) {
	b, err := s.rdb.Get(ctx, s.resultKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, wrap("result", err)
	}
	return b, true, nil
}

// OutboxDepth implements store.Outbox.
func (s *Store) OutboxDepth(ctx context.Context) (int, error) {
	n, err := s.rdb.XLen(ctx, s.outboxKey()).Result()
	return int(n), wrap("outbox depth", err)
}
