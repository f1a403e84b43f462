package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/redisstore/internal/script"
)

// recordField is a record's field in its app's rec hash: the kind has no ':' (store.CheckRecordKey).
func recordField(kind, id string) string { return kind + ":" + id }

// PutRecord implements store.Store in one script.
func (s *Store) PutRecord(ctx context.Context, app string, r store.Record) error {
	_, err := s.putRecord(ctx, app, r, true)
	return err
}

// AddRecord implements store.Store in one script.
func (s *Store) AddRecord(ctx context.Context, app string, r store.Record) (bool, error) {
	return s.putRecord(ctx, app, r, false)
}

func (s *Store) putRecord(ctx context.Context, app string, r store.Record, replace bool) (bool, error) {
	if err := store.CheckRecordKey(r.Kind, r.ID); err != nil {
		return false, err
	}
	keys := []string{s.akey(app, "app"), s.akey(app, "meta"), s.akey(app, "rec")}
	v, err := s.runApp(ctx, app, script.PutRecord, keys,
		recordField(r.Kind, r.ID), r.Data, s.opts.MaxRecordsPerApp, boolArg(app == store.NoApp), boolArg(replace))
	if err != nil {
		return false, wrap("put record", err)
	}
	switch v {
	case int64(-1):
		return false, fmt.Errorf("%w %q", store.ErrUnknownApp, app)
	case int64(-2):
		return false, fmt.Errorf("%w: app %q holds %d", store.ErrRecordsFull, app, s.opts.MaxRecordsPerApp)
	}
	return v == int64(1), nil
}

// Record implements store.Store.
func (s *Store) Record(ctx context.Context, app, kind, id string) (store.Record, bool, error) {
	if err := store.CheckRecordKey(kind, id); err != nil {
		return store.Record{}, false, err
	}
	cmd := redis.NewStringCmd(ctx, "HGET", s.akey(app, "rec"), recordField(kind, id))
	return s.record(kind, id, s.pipe.Do(ctx, cmd), cmd.Val())
}

// TakeRecord implements store.Store in one script.
func (s *Store) TakeRecord(ctx context.Context, app, kind, id string) (store.Record, bool, error) {
	if err := store.CheckRecordKey(kind, id); err != nil {
		return store.Record{}, false, err
	}
	cmd := s.pipe.Run(ctx, script.TakeRecord, []string{s.akey(app, "rec")}, recordField(kind, id))
	v, err := cmd.Text()
	return s.record(kind, id, err, v)
}

// record is a record read by Record or TakeRecord: redis.Nil is none.
func (s *Store) record(kind, id string, err error, data string) (store.Record, bool, error) {
	switch {
	case errors.Is(err, redis.Nil):
		return store.Record{}, false, nil
	case err != nil:
		return store.Record{}, false, wrap("record", err)
	}
	return store.Record{Kind: kind, ID: id, Data: []byte(data)}, true, nil
}

// Records implements store.Store. It reads the app's records of every kind (HGETALL): an app
// holds at most Options.MaxRecordsPerApp.
func (s *Store) Records(ctx context.Context, app, kind, after string, limit int) ([]store.Record, error) {
	if err := store.CheckRecordKey(kind, "-"); err != nil {
		return nil, err
	}
	all, err := s.rdb.HGetAll(ctx, s.akey(app, "rec")).Result()
	if err != nil {
		return nil, wrap("records", err)
	}
	prefix := kind + ":"
	var out []store.Record
	for f, v := range all {
		id, ok := strings.CutPrefix(f, prefix)
		if ok && id > after {
			out = append(out, store.Record{Kind: kind, ID: id, Data: []byte(v)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
