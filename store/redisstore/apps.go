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
	cmd := redis.NewMapStringStringCmd(ctx, "hgetall", s.akey(id, "app"))
	// shared with concurrent calls: the token endpoints read apps
	if err := s.pipe.Do(ctx, cmd); err != nil {
		return store.App{}, false, wrap("app", err)
	}
	h, err := cmd.Result()
	if err != nil {
		return store.App{}, false, wrap("app", err)
	}
	a, ok := decodeApp(h)
	return a, ok, nil
}

// members returns the app registry.
func (s *Store) members(ctx context.Context) ([]string, error) {
	return s.rdb.ZRange(ctx, s.registry, 0, -1).Result()
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

// AppPage implements store.Store: the registry is read in id order (ZRANGEBYLEX), a page at a
// time, and only the apps of the page are read.
func (s *Store) AppPage(ctx context.Context, after string, limit int) ([]store.App, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []store.App
	for len(out) < limit {
		min := "-"
		if after != "" {
			min = "(" + after
		}
		want := limit - len(out)
		ids, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: s.registry, Start: min, Stop: "+", ByLex: true, Count: int64(want)}).Result()
		if err != nil {
			return nil, wrap("app page", err)
		}
		if len(ids) == 0 {
			break
		}
		cmds := make([]*redis.MapStringStringCmd, len(ids))
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				cmds[i] = p.HGetAll(ctx, s.akey(id, "app"))
			}
			return nil
		}); err != nil {
			return nil, wrap("app page", err)
		}
		for _, c := range cmds {
			if a, ok := decodeApp(c.Val()); ok { // an id without an app: journal entries only
				out = append(out, a)
			}
		}
		after = ids[len(ids)-1]
		if len(ids) < want {
			break
		}
	}
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

// Lookup implements store.Store in one read-only script (script.Lookup): the token, its app (or
// the fallback app), the plans' versions and Redis's clock (TIME), so the replicas' clocks never
// matter.
func (s *Store) Lookup(ctx context.Context, token, fallback string) (store.Lookup, error) {
	return s.LookupWith(ctx, token, fallback, store.RecordKey{})
}

// LookupWith implements store.Store in the same one round trip as Lookup.
func (s *Store) LookupWith(ctx context.Context, token, fallback string, probe store.RecordKey) (store.Lookup, error) {
	field := ""
	if probe.Kind != "" && probe.ID != "" {
		field = recordField(probe.Kind, probe.ID)
	}
	xs, err := s.pipe.Run(ctx, script.Lookup, []string{s.tokens, s.plans}, s.opts.Prefix, token, fallback, field).Slice()
	if err != nil {
		return store.Lookup{}, wrap("lookup", err)
	}
	if len(xs) != 7 {
		return store.Lookup{}, fmt.Errorf("redisstore: lookup: unexpected answer %v", xs)
	}
	var lk store.Lookup
	if tj, ok := xs[0].(string); ok {
		if lk.Token, err = decodeToken(token, []byte(tj)); err != nil {
			return store.Lookup{}, wrap("lookup", err)
		}
		lk.TokenFound = true
	}
	lk.App, lk.AppFound = decodeApp(pairs(xs[1]))
	rv, err1 := strconv.ParseUint(toStr(xs[2]), 10, 64)
	fv, err2 := strconv.ParseUint(toStr(xs[3]), 10, 64)
	sec, err3 := strconv.ParseInt(toStr(xs[4]), 10, 64)
	usec, err4 := strconv.ParseInt(toStr(xs[5]), 10, 64)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return store.Lookup{}, wrap("lookup", err)
	}
	lk.Rules, lk.Faults, lk.Now = rv, fv, time.Unix(sec, usec*1000)
	if held, ok := xs[6].(int64); ok && held >= 0 && lk.AppFound {
		lk.Probed, lk.Held = true, held == 1
	}
	s.learnSkew(lk.Now)
	return lk, nil
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
	cmd := redis.NewStringCmd(ctx, "hget", s.tokens, value)
	// shared with concurrent calls: the token endpoints read tokens
	if err := s.pipe.Do(ctx, cmd); err != nil && !errors.Is(err, redis.Nil) {
		return store.Token{}, false, wrap("token", err)
	}
	b, err := cmd.Bytes()
	if errors.Is(err, redis.Nil) {
		return store.Token{}, false, nil
	}
	if err != nil {
		return store.Token{}, false, wrap("token", err)
	}
	t, err := decodeToken(value, b)
	if err != nil {
		return store.Token{}, false, wrap("token", err)
	}
	return t, true, nil
}

// decodeToken reads a token as the store keeps it.
func decodeToken(value string, b []byte) (store.Token, error) {
	var w wireToken
	if err := json.Unmarshal(b, &w); err != nil {
		return store.Token{}, err
	}
	return store.Token{Value: value, App: w.App, Refresh: w.Refresh, Issued: w.Issued, Expires: w.Expires}, nil
}

// OpenWindow implements store.Store.
func (s *Store) OpenWindow(ctx context.Context, app, openID string, t time.Time) error {
	sec, nsec := unixTime(t)
	_, err := s.runApp(ctx, app, script.OpenWindow, []string{s.akey(app, "win"), s.akey(app, "meta")}, openID, sec, nsec, s.opts.MaxWindowsPerApp)
	return wrap("open window", err)
}

// TakeReply implements store.Store: the script answers what it found (a status and the window),
// and the refusal is read from the status here. The window's times are in now's location.
func (s *Store) TakeReply(ctx context.Context, app, openID string, now time.Time, rule store.WindowRule) (store.ReplyTake, error) {
	ns, nn := unixTime(now)
	cs, cn := unixTime(now.Add(-rule.Duration))
	v, err := s.runApp(ctx, app, script.TakeReply, []string{s.akey(app, "win"), s.akey(app, "meta")},
		openID, ns, nn, cs, cn, rule.MaxReplies, boolArg(rule.OpenOnFirst), s.opts.MaxWindowsPerApp,
		store.RequestOf(ctx), s.until(ctx))
	if err != nil {
		return store.ReplyTake{}, wrap("take reply", err)
	}
	xs, _ := v.([]any)
	if len(xs) != 5 {
		return store.ReplyTake{}, fmt.Errorf("redisstore: take reply: unexpected answer %v", v)
	}
	status := toStr(xs[0])
	if status == "late" {
		return store.ReplyTake{}, fmt.Errorf("redisstore: take reply: %w: Redis ran it after its deadline, nothing counted", store.ErrUnavailable)
	}
	if status == "none" {
		return store.ReplyTake{Refusal: store.ReplyNoWindow}, nil
	}
	t := store.ReplyTake{Window: store.Window{
		OpenID: openID, OpenedAt: time.Unix(toInt(xs[1]), toInt(xs[2])).In(now.Location()),
		Replies: int(toInt(xs[3])), UserMessage: toStr(xs[4]) == "1",
	}}
	switch status {
	case "ok":
		t.OK = true
	case "expired":
		t.Refusal = store.ReplyExpired
	case "full":
		t.Refusal = store.ReplyFull
	default:
		return store.ReplyTake{}, fmt.Errorf("redisstore: take reply: unexpected status %q", status)
	}
	return t, nil
}

// GiveBack implements store.Store in one script (script.GiveBack).
func (s *Store) GiveBack(ctx context.Context, app, openID, id string) (bool, error) {
	n, err := s.run(ctx, script.GiveBack, []string{s.akey(app, "win")}, openID, id)
	if err != nil {
		return false, wrap("give back", err)
	}
	return toInt(n) == 1, nil
}

// parseWindow reads a window's value "<sec> <nsec> <replies> <user message>[ <request ids>]".
func parseWindow(openID, v string) (store.Window, error) {
	f := strings.Fields(v)
	if len(f) != 4 && len(f) != 5 {
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

// TakeCounts implements store.Store in one script (script.TakeCounts): the whole sequence is one
// atomic step, and one round trip.
func (s *Store) TakeCounts(ctx context.Context, takes []store.Take) (store.TakesResult, error) {
	if len(takes) == 0 {
		return store.TakesResult{Ended: -1}, nil
	}
	keys := make([]string, 0, 1+2*len(takes))
	args := make([]any, 0, 1+5*len(takes))
	keys = append(keys, s.registry)
	args = append(args, s.opts.Prefix)
	for _, tk := range takes {
		keys = append(keys, s.akey(tk.App, "cnt"), s.akey(tk.App, "meta"))
		args = append(args, tk.App, tk.Name, tk.Period, tk.Limit, boolArg(tk.EndsWhenCounted))
	}
	xs, err := s.pipe.Run(ctx, script.TakeCounts, keys, args...).Slice()
	if err != nil {
		return store.TakesResult{}, wrap("take counts", err)
	}
	if len(xs) != 2 {
		return store.TakesResult{}, fmt.Errorf("redisstore: take counts: unexpected answer %v", xs)
	}
	return store.TakesResult{Ended: int(toInt(xs[0])) - 1, Count: int(toInt(xs[1]))}, nil
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

// AppNow implements store.Clock: Redis's TIME plus the app's offset, whichever replica asks:
// the clock that Lookup gives every send (Lookup.Now), for the steps outside a send.
func (s *Store) AppNow(ctx context.Context, app store.App) (time.Time, error) {
	t, err := s.rdb.Time(ctx).Result()
	if err != nil {
		return time.Time{}, wrap("time", err)
	}
	return t.Add(app.ClockOffset), nil
}
