package redisstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/redisstore/internal/script"
)

// seedArgs are the ARGV of luaSeed.
func (s *Store) seedArgs(sd store.Seed) ([]any, error) {
	apps, err := encodeAppFaults(sd.AppFaults)
	if err != nil {
		return nil, err
	}
	sec, nsec := unixTime(sd.At)
	args := []any{s.opts.Prefix, sec, nsec, sd.Rules, sd.Faults, apps, len(sd.Apps)}
	for _, a := range sd.Apps {
		args = append(args, appArgs(a)...)
	}
	args = append(args, len(sd.Tokens))
	for _, t := range sd.Tokens {
		b, err := json.Marshal(wireToken{App: t.App, Refresh: t.Refresh, Issued: t.Issued, Expires: t.Expires})
		if err != nil {
			return nil, err
		}
		args = append(args, t.Value, b)
	}
	args = append(args, len(sd.Windows))
	for _, w := range sd.Windows {
		args = append(args, w.App, w.OpenID)
	}
	args = append(args, len(sd.Records))
	for _, r := range sd.Records {
		if err := store.CheckRecordKey(r.Record.Kind, r.Record.ID); err != nil {
			return nil, err
		}
		args = append(args, r.App, recordField(r.Record.Kind, r.Record.ID), r.Record.Data)
	}
	return args, nil
}

// seedKeys are the KEYS of luaSeed.
func (s *Store) seedKeys() []string {
	return []string{s.registry, s.tokens, s.plans, s.version, s.counts}
}

// Seed implements store.Store in one script.
func (s *Store) Seed(ctx context.Context, sd store.Seed) error {
	args, err := s.seedArgs(sd)
	if err != nil {
		return wrap("seed", err)
	}
	return wrap("seed", script.Seed.Run(ctx, s.rdb, s.seedKeys(), args...).Err())
}

// cleanChunk is how many apps one CleanApps step drops: each step keeps Redis busy for
// milliseconds, and the other replicas' commands run between two steps.
const cleanChunk = 500

// clean drops the apps a reset left to clean, a chunk at a time, until none is left.
func (s *Store) clean(ctx context.Context, left int) error {
	for left > 0 {
		xs, err := script.CleanApps.Run(ctx, s.rdb, []string{s.gone, s.registry, s.idle}, s.opts.Prefix, cleanChunk).Slice()
		if err != nil {
			return err
		}
		if len(xs) != 2 {
			return fmt.Errorf("clean apps: unexpected answer %v", xs)
		}
		left = int(toInt(xs[1]))
	}
	return nil
}

// Reset implements store.Store: for every app (app == "") or for one. A reset of every app is
// one short script whatever the number of apps (the configured state is back when it ends; the
// apps that are not configured leave the registry), then the keys of those apps are dropped a
// chunk at a time (CleanApps), so Redis keeps answering the other replicas meanwhile; Reset
// returns when the last is gone. Until then, a send to such an app finds its former state, as
// if it had come before the reset, and its effects go with the app. The
// sequence counter, the plan version counter, the live feed and the inbox sessions are kept,
// as the in-memory store keeps them: numbers never go back, and a feed reader that is behind
// still gets what was recorded before the reset.
func (s *Store) Reset(ctx context.Context, app string, sd store.Seed) error {
	if app == "" {
		args, err := s.seedArgs(sd)
		if err != nil {
			return wrap("reset", err)
		}
		left, err := script.ResetAll.Run(ctx, s.rdb, append(s.seedKeys(), s.issued, s.idle, s.gone), args...).Int()
		if err != nil {
			return wrap("reset", err)
		}
		return wrap("reset", s.clean(ctx, left))
	}
	capability := true
	for _, a := range sd.Apps {
		if a.ID == app {
			capability = a.Capability
		}
	}
	sec, nsec := unixTime(sd.At)
	var open []any
	for _, w := range sd.Windows {
		if w.App == app {
			open = append(open, w.OpenID)
		}
	}
	args := append([]any{boolArg(capability), sec, nsec, len(open)}, open...)
	for _, r := range sd.Records {
		if r.App == app {
			if err := store.CheckRecordKey(r.Record.Kind, r.Record.ID); err != nil {
				return wrap("reset", err)
			}
			args = append(args, recordField(r.Record.Kind, r.Record.ID), r.Record.Data)
		}
	}
	keys := []string{s.akey(app, "app"), s.akey(app, "meta"), s.akey(app, "win"), s.akey(app, "cnt"), s.akey(app, "jrn"), s.akey(app, "rec")}
	n, err := script.ResetApp.Run(ctx, s.rdb, keys, args...).Int()
	if err != nil {
		return wrap("reset", err)
	}
	if n == 0 {
		return fmt.Errorf("%w %q", store.ErrUnknownApp, app)
	}
	return nil
}

// DeleteApp implements store.Store in one script.
func (s *Store) DeleteApp(ctx context.Context, id string) error {
	keys := []string{s.akey(id, "app"), s.akey(id, "meta"), s.akey(id, "win"), s.akey(id, "cnt"), s.akey(id, "jrn"),
		s.registry, s.tokens, s.issued, s.akey(id, "rec"), s.idle}
	n, err := script.DeleteApp.Run(ctx, s.rdb, keys, id).Int()
	switch {
	case err != nil:
		return wrap("delete app", err)
	case n == 0:
		return fmt.Errorf("%w %q", store.ErrUnknownApp, id)
	case n < 0:
		return fmt.Errorf("%w: %q", store.ErrConfiguredApp, id)
	}
	return nil
}
