package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/redisstore/internal/batch"
	"github.com/smartappmock/smartappmock/store/redisstore/internal/script"
)

// entryBufs recycles the buffers of encoded entries (about 0.5–1 KB each, one per send).
var entryBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledEntry is the largest entry buffer kept for reuse: a rare huge entry is left to the GC.
const maxPooledEntry = 16 << 10

// Append implements store.Store: one script numbers the entry and adds it to the app's journal
// and to the feed.
func (s *Store) Append(ctx context.Context, e store.Entry) (uint64, error) {
	seq, _, err := s.append(ctx, e, false)
	return seq, err
}

// AppendOnce implements store.Store: Append's script, told to look for the entry's request id
// among the app's newest 256 entries first.
func (s *Store) AppendOnce(ctx context.Context, e store.Entry) (uint64, bool, error) {
	return s.append(ctx, e, true)
}

func (s *Store) append(ctx context.Context, e store.Entry, once bool) (uint64, bool, error) {
	e.Seq = 0 // the stream id carries it
	bp := entryBufs.Get().(*[]byte)
	b, err := appendEntryJSON((*bp)[:0], &e)
	// The buffer is free again once Append returns: the batcher answers a call only after Redis
	// has read its arguments, or once it is sure they will never be sent.
	var lost bool // the command may still be sent: its buffer is not ours again
	defer func() {
		if !lost && cap(b) <= maxPooledEntry {
			*bp = b[:0]
			entryBufs.Put(bp)
		}
	}()
	if err != nil {
		return 0, false, wrap("append", err)
	}
	until := s.until(ctx)
	if once {
		until = "0"
	}
	seq, err := s.pipe.Run(ctx, script.Append,
		[]string{s.seq, s.feedKey, s.registry, s.akey(e.App, "jrn"), s.akey(e.App, "meta"), s.akey(e.App, "app"), s.idle},
		e.App, b, s.opts.JournalCap, s.opts.FeedBacklog, s.opts.Prefix, s.opts.MaxApps, until, boolArg(once), e.ID).Int64()
	if err != nil {
		lost = errors.Is(err, batch.ErrOutcomeUnknown)
		if strings.HasSuffix(err.Error(), "LATE") {
			err = fmt.Errorf("%w: Redis ran it after its deadline, nothing appended", store.ErrUnavailable)
		}
		return 0, false, wrap("append", err)
	}
	return uint64(seq), seq != 0, nil
}

// decodeMessage reads a stream message: the sequence number from its id, the entry from field e.
func decodeMessage(m redis.XMessage) (store.Entry, error) {
	var e store.Entry
	ms, _, _ := strings.Cut(m.ID, "-")
	seq, err := strconv.ParseUint(ms, 10, 64)
	if err != nil {
		return e, fmt.Errorf("stream id %q: %w", m.ID, err)
	}
	raw, _ := m.Values["e"].(string)
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		return e, fmt.Errorf("entry %s: %w", m.ID, err)
	}
	e.Seq = seq
	return e, nil
}

// streamID is the id of the entry with sequence number seq.
func streamID(seq uint64) string { return strconv.FormatUint(seq, 10) + "-0" }

// noEnd is the newest end of a journal read: no Before cursor.
const noEnd = 1<<64 - 1

// journalRead is where the reading of one app's journal stands.
type journalRead struct {
	key   string
	end   uint64 // the newest seq still to read
	found int
	done  bool
}

// Journal implements store.Store: it reads each app's stream newest first with XREVRANGE (one
// pipeline for all apps per batch), keeps the entries that q matches, and merges the apps.
func (s *Store) Journal(ctx context.Context, q store.Query) ([]store.Entry, error) {
	apps := []string{q.App}
	if q.App == "" {
		var err error
		if apps, err = s.members(ctx); err != nil {
			return nil, wrap("journal", err)
		}
	}
	end := uint64(noEnd)
	if q.Before > 0 {
		end = q.Before - 1
	}
	start := q.After + 1
	if end < start {
		return nil, nil
	}
	// One batch reads the whole journal of an app unless a limit is smaller; a filter may need
	// more batches to fill the limit.
	batch := int64(s.opts.JournalCap)
	if q.Limit > 0 && q.Limit < s.opts.JournalCap {
		batch = int64(max(q.Limit, 64))
		if filterless(q) {
			batch = int64(q.Limit)
		}
	}
	reads := make([]*journalRead, len(apps))
	for i, app := range apps {
		reads[i] = &journalRead{key: s.akey(app, "jrn"), end: end}
	}
	var out []store.Entry
	for {
		var todo []*journalRead
		for _, r := range reads {
			if !r.done {
				todo = append(todo, r)
			}
		}
		if len(todo) == 0 {
			break
		}
		cmds := make([]*redis.XMessageSliceCmd, len(todo))
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, r := range todo {
				hi := "+"
				if r.end != noEnd {
					hi = streamID(r.end)
				}
				cmds[i] = p.XRevRangeN(ctx, r.key, hi, streamID(start), batch)
			}
			return nil
		}); err != nil {
			return nil, wrap("journal", err)
		}
		for i, r := range todo {
			ms := cmds[i].Val()
			for _, m := range ms {
				e, err := decodeMessage(m)
				if err != nil {
					return nil, wrap("journal", err)
				}
				r.end = e.Seq - 1
				if !q.Matches(&e) {
					continue
				}
				out = append(out, e)
				if r.found++; q.Limit > 0 && r.found == q.Limit {
					break
				}
			}
			r.done = int64(len(ms)) < batch || (q.Limit > 0 && r.found == q.Limit) || r.end < start
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq > out[j].Seq })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// filterless reports whether q matches every entry of its app.
func filterless(q store.Query) bool { return q.OpenID == "" && q.Outcome == "" }

// JournalStats implements store.Store.
func (s *Store) JournalStats(ctx context.Context, app string) (int, int, error) {
	var held *redis.IntCmd
	var appended *redis.StringCmd
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error { // one slot: the app's
		held = p.XLen(ctx, s.akey(app, "jrn"))
		appended = p.HGet(ctx, s.akey(app, "meta"), "appended")
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return 0, 0, wrap("journal stats", err)
	}
	n, _ := strconv.Atoi(appended.Val())
	h := int(held.Val())
	return h, max(0, n-h), nil
}

// Feed implements store.Store with XREAD BLOCK on the feed stream from the cursor "<after>-0".
// One XREAD blocks at most Options.FeedPoll, so a context without a deadline is noticed within
// it. A cursor above the store's head (Redis lost its data and numbers again from 1) reads
// from the start: the reader gets the new entries instead of waiting for the old numbers.
func (s *Store) Feed(ctx context.Context, after uint64, limit int) ([]store.Entry, error) {
	if limit <= 0 {
		limit = 256
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		block := s.opts.FeedPoll
		if dl, ok := ctx.Deadline(); ok {
			block = min(block, time.Until(dl))
		}
		block = max(block, time.Millisecond) // BLOCK 0 would wait for ever
		res, err := s.feed.XRead(ctx, &redis.XReadArgs{
			Streams: []string{s.feedKey, streamID(after)}, Count: int64(limit), Block: block,
		}).Result()
		if errors.Is(err, redis.Nil) { // nothing within block
			// A cursor above the head is from before Redis lost its data (a restart without
			// persistence): the numbers start again at 1, so the reader starts again too.
			if head, err := s.Head(ctx); err == nil && head < after {
				after = 0
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, wrap("feed", err)
		}
		var out []store.Entry
		for _, st := range res {
			for _, m := range st.Messages {
				e, err := decodeMessage(m)
				if err != nil {
					return nil, wrap("feed", err)
				}
				out = append(out, e)
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
}

// Head implements store.Store.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	n, err := s.rdb.Get(ctx, s.seq).Uint64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, wrap("head", err)
}
