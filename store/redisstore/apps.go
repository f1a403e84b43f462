package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/redisstore/internal/script"
)

// appArgs are an app's hash fields after its id, as the scripts take them.
func appArgs(a store.App) []any {
	return []any{a.ID, a.ClientID, a.ClientSecret, a.Source, boolArg(a.Capability), strconv.FormatInt(int64(a.ClockOffset), 10)}
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// decodeApp reads an app's hash (nil map or no id: no app).
func decodeApp(h map[string]string) (store.App, bool) {
	id, ok := h["id"]
	if !ok {
		return store.App{}, false
	}
	off, _ := strconv.ParseInt(h["offset"], 10, 64)
	return store.App{
		ID: id, ClientID: h["client_id"], ClientSecret: h["secret"], Source: h["source"],
		Capability: h["cap"] == "1", ClockOffset: time.Duration(off),
	}, true
}

// pairs turns a flat [field, value, ...] answer into a map.
func pairs(v any) map[string]string {
	xs, _ := v.([]any)
	h := make(map[string]string, len(xs)/2)
	for i := 0; i+1 < len(xs); i += 2 {
		h[toStr(xs[i])] = toStr(xs[i+1])
	}
	return h
}

// RegisterApp implements store.Store.
func (s *Store) RegisterApp(ctx context.Context, app store.App) (store.App, bool, error) {
	v, err := s.runApp(ctx, app.ID, script.RegisterApp, []string{s.akey(app.ID, "app"), s.akey(app.ID, "meta")}, appArgs(app)...)
	if err != nil {
		return store.App{}, false, wrap("register app", err)
	}
	xs, _ := v.([]any)
	if len(xs) == 1 {
		return app, true, nil
	}
	if len(xs) != 2 {
		return store.App{}, false, fmt.Errorf("redisstore: register app: unexpected answer %v", v)
	}
	stored, _ := decodeApp(pairs(xs[1]))
	return stored, false, nil
}

// App implements store.Store.
func (s *Store) App(ctx context.Context, id string) (store.App, bool, error) {
	h, err := s.rdb.HGetAll(ctx, s.akey(id, "app")).Result()
	if err != nil {
		return store.App{}, false, wrap("app", err)
	}
	a, ok := decodeApp(h)
	return a, ok, nil
}

// members returns the app registry.
func (s *Store) members(ctx context.Context) ([]string, error) {
	return s.rdb.SMembers(ctx, s.registry).Result()
}

// Apps implements store.Store.
func (s *Store) Apps(ctx context.Context) ([]store.App, error) {
	ids, err := s.members(ctx)
	if err != nil {
		return nil, wrap("apps", err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, s.akey(id, "app"))
		}
		return nil
	}); err != nil {
		return nil, wrap("apps", err)
	}
	var out []store.App
	for _, c := range cmds {
		if a, ok := decodeApp(c.Val()); ok {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// UpdateApp implements store.Store.
func (s *Store) UpdateApp(ctx context.Context, id string, capability *bool, advance time.Duration) (store.App, error) {
	c := ""
	if capability != nil {
		c = boolArg(*capability)
	}
	v, err := script.UpdateApp.Run(ctx, s.rdb, []string{s.akey(id, "app")}, c, strconv.FormatInt(int64(advance), 10)).Result()
	if err != nil {
		return store.App{}, wrap("update app", err)
	}
	a, ok := decodeApp(pairs(v))
	if !ok {
		return store.App{}, fmt.Errorf("%w %q", store.ErrUnknownApp, id)
	}
	return a, nil
}

// wireToken is a token as the store keeps it (store.Token hides its value from JSON).
type wireToken struct {
	App     string    `json:"app"`
	Refresh bool      `json:"refresh,omitempty"`
	Issued  time.Time `json:"issued"`
	Expires time.Time `json:"expires,omitzero"`
}

// PutToken implements store.Store.
func (s *Store) PutToken(ctx context.Context, t store.Token) error {
	b, err := json.Marshal(wireToken{App: t.App, Refresh: t.Refresh, Issued: t.Issued, Expires: t.Expires})
	if err != nil {
		return wrap("put token", err)
	}
	err = script.PutToken.Run(ctx, s.rdb, []string{s.tokens, s.issued}, t.Value, b, boolArg(!t.Expires.IsZero()), s.opts.MaxTokens).Err()
	return wrap("put token", err)
}

// Token implements store.Store.
func (s *Store) Token(ctx context.Context, value string) (store.Token, bool, error) {
	b, err := s.rdb.HGet(ctx, s.tokens, value).Bytes()
	if errors.Is(err, redis.Nil) {
		return store.Token{}, false, nil
	}
	if err != nil {
		return store.Token{}, false, wrap("token", err)
	}
	var w wireToken
	if err := json.Unmarshal(b, &w); err != nil {
		return store.Token{}, false, wrap("token", err)
	}
	return store.Token{Value: value, App: w.App, Refresh: w.Refresh, Issued: w.Issued, Expires: w.Expires}, true, nil
}

// OpenWindow implements store.Store.
func (s *Store) OpenWindow(ctx context.Context, app, openID string, t time.Time) error {
	sec, nsec := unixTime(t)
	_, err := s.runApp(ctx, app, script.OpenWindow, []string{s.akey(app, "win"), s.akey(app, "meta")}, openID, sec, nsec, s.opts.MaxWindowsPerApp)
	return wrap("open window", err)
}

// TakeReply implements store.Store; the window's times are in now's location.
func (s *Store) TakeReply(ctx context.Context, app, openID string, now time.Time, rule store.WindowRule) (store.ReplyTake, error) {
	ns, nn := unixTime(now)
	cs, cn := unixTime(now.Add(-rule.Duration))
	v, err := s.runApp(ctx, app, script.TakeReply, []string{s.akey(app, "win"), s.akey(app, "meta")},
		openID, ns, nn, cs, cn, rule.MaxReplies, boolArg(rule.OpenOnFirst), s.opts.MaxWindowsPerApp)
	if err != nil {
		return store.ReplyTake{}, wrap("take reply", err)
	}
	xs, _ := v.([]any)
	if len(xs) != 5 {
		return store.ReplyTake{}, fmt.Errorf("redisstore: take reply: unexpected answer %v", v)
	}
	w := store.Window{
		OpenID: openID, OpenedAt: time.Unix(toInt(xs[1]), toInt(xs[2])).In(now.Location()),
		Replies: int(toInt(xs[3])), UserMessage: toStr(xs[4]) == "1",
	}
	switch toStr(xs[0]) {
	case "ok":
		return store.ReplyTake{OK: true, Window: w}, nil
	case "none":
		return store.ReplyTake{Refusal: store.ReplyNoWindow}, nil
	case "expired":
		return store.ReplyTake{Refusal: store.ReplyExpired, Window: w}, nil
	default: // "full"
		return store.ReplyTake{Refusal: store.ReplyFull, Window: w}, nil
	}
}

// Lookup implements store.Store (interim: several round trips).
func (s *Store) Lookup(ctx context.Context, token, fallback string) (store.Lookup, error) {
	var lk store.Lookup
	var err error
	id := fallback
	if token != "" {
		if lk.Token, lk.TokenFound, err = s.Token(ctx, token); err != nil {
			return lk, err
		}
		if lk.TokenFound {
			id = lk.Token.App
		}
	}
	if id != "" {
		if lk.App, lk.AppFound, err = s.App(ctx, id); err != nil {
			return lk, err
		}
	}
	vs, err := s.rdb.HMGet(ctx, s.plans, "rules_v", "faults_v").Result()
	if err != nil {
		return lk, wrap("lookup", err)
	}
	lk.Rules, _ = strconv.ParseUint(toStr(vs[0]), 10, 64)
	lk.Faults, _ = strconv.ParseUint(toStr(vs[1]), 10, 64)
	t, err := s.rdb.Time(ctx).Result()
	if err != nil {
		return lk, wrap("lookup", err)
	}
	lk.Now = t
	return lk, nil
}

// TakeCounts implements store.Store (interim: one TakeCount per take).
func (s *Store) TakeCounts(ctx context.Context, takes []store.Take) (store.TakesResult, error) {
	for i, tk := range takes {
		n, ok, err := s.TakeCount(ctx, tk.App, tk.Name, tk.Period, tk.Limit)
		if err != nil {
			return store.TakesResult{}, err
		}
		if ok == tk.EndsWhenCounted {
			return store.TakesResult{Ended: i, Count: n}, nil
		}
	}
	return store.TakesResult{Ended: -1}, nil
}

// parseWindow reads a window's value "<sec> <nsec> <replies> <user message>".
func parseWindow(openID, v string) (store.Window, error) {
	f := strings.Fields(v)
	if len(f) != 4 {
		return store.Window{}, fmt.Errorf("window %q: bad value %q", openID, v)
	}
	sec, err1 := strconv.ParseInt(f[0], 10, 64)
	nsec, err2 := strconv.ParseInt(f[1], 10, 64)
	r, err3 := strconv.Atoi(f[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return store.Window{}, fmt.Errorf("window %q: %w", openID, err)
	}
	return store.Window{OpenID: openID, OpenedAt: time.Unix(sec, nsec), Replies: r, UserMessage: f[3] == "1"}, nil
}

// Windows implements store.Store. Times are local, like time.Now's.
func (s *Store) Windows(ctx context.Context, app string) ([]store.Window, error) {
	h, err := s.rdb.HGetAll(ctx, s.akey(app, "win")).Result()
	if err != nil {
		return nil, wrap("windows", err)
	}
	out := make([]store.Window, 0, len(h))
	for id, v := range h {
		w, err := parseWindow(id, v)
		if err != nil {
			return nil, wrap("windows", err)
		}
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OpenID < out[j].OpenID })
	return out, nil
}

// TakeCount implements store.Store.
func (s *Store) TakeCount(ctx context.Context, app, name, period string, limit int) (int, bool, error) {
	v, err := s.runApp(ctx, app, script.TakeCount, []string{s.akey(app, "cnt"), s.akey(app, "meta")}, name, period, limit)
	if err != nil {
		return 0, false, wrap("take count", err)
	}
	xs, _ := v.([]any)
	if len(xs) != 2 {
		return 0, false, fmt.Errorf("redisstore: take count: unexpected answer %v", v)
	}
	return int(toInt(xs[0])), toInt(xs[1]) == 1, nil
}

// Counters implements store.Store.
func (s *Store) Counters(ctx context.Context, app string) (map[string]store.Counter, error) {
	h, err := s.rdb.HGetAll(ctx, s.akey(app, "cnt")).Result()
	if err != nil {
		return nil, wrap("counters", err)
	}
	out := make(map[string]store.Counter, len(h))
	for name, v := range h {
		c, period, _ := strings.Cut(v, " ")
		n, err := strconv.Atoi(c)
		if err != nil {
			return nil, wrap("counters", fmt.Errorf("counter %q: bad value %q", name, v))
		}
		out[name] = store.Counter{Window: period, Count: n}
	}
	return out, nil
}

// sessionKey names an inbox session's key.
func (s *Store) sessionKey(id string) string { return s.opts.Prefix + "session:" + id }

// PutSession implements store.Store: Redis drops the session at its expiry.
func (s *Store) PutSession(ctx context.Context, id string, expires time.Time) error {
	err := s.rdb.SetArgs(ctx, s.sessionKey(id), strconv.FormatInt(expires.UnixNano(), 10), redis.SetArgs{ExpireAt: expires}).Err()
	return wrap("put session", err)
}

// Session implements store.Store.
func (s *Store) Session(ctx context.Context, id string, now time.Time) (bool, error) {
	exp, err := s.rdb.Get(ctx, s.sessionKey(id)).Int64()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, wrap("session", err)
	}
	return now.Before(time.Unix(0, exp)), nil
}

// DeleteSession implements store.Store.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return wrap("delete session", s.rdb.Del(ctx, s.sessionKey(id)).Err())
}

// AppNow implements store.Clock: Redis's TIME plus the app's offset, the clock of every send,
// whichever replica asks.
func (s *Store) AppNow(ctx context.Context, app store.App) (time.Time, error) {
	t, err := s.rdb.Time(ctx).Result()
	if err != nil {
		return time.Time{}, wrap("time", err)
	}
	return t.Add(app.ClockOffset), nil
}
