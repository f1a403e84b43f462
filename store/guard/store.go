package guard

import (
	"context"
	"time"

	"github.com/smartappmock/smartappmock/store"
)

// Store is a store.Store whose every call goes through a deadline and a breaker (see New).
type Store struct {
	inner store.Store
	b     *Breaker
}

func (g *Store) breaker() *Breaker { return g.b }

// Inner returns the guarded store.
func (g *Store) Inner() store.Store { return g.inner }

// LookupWith implements store.Store under the breaker.
func (g *Store) LookupWith(ctx context.Context, token, fallback string, probe store.RecordKey) (store.Lookup, error) {
	return call(g.b, ctx, func(ctx context.Context) (store.Lookup, error) {
		return g.inner.LookupWith(ctx, token, fallback, probe)
	})
}

// Lookup implements store.Store under the breaker.
func (g *Store) Lookup(ctx context.Context, token, fallback string) (store.Lookup, error) {
	return call(g.b, ctx, func(ctx context.Context) (store.Lookup, error) { return g.inner.Lookup(ctx, token, fallback) })
}

// Seed implements store.Store under the breaker.
func (g *Store) Seed(ctx context.Context, s store.Seed) error {
	return call0(g.b, ctx, func(ctx context.Context) error { return g.inner.Seed(ctx, s) })
}

// Reset implements store.Store under the breaker. A reset of every app may take longer than
// one call (it works in small steps), so it gets ten deadlines.
func (g *Store) Reset(ctx context.Context, app string, s store.Seed) error {
	_, cancel, err := g.b.begin(ctx)
	if err != nil {
		return err
	}
	cancel()
	cctx, cancel := context.WithTimeout(ctx, 10*g.b.opts.Deadline)
	defer cancel()
	return g.b.end(ctx, g.inner.Reset(cctx, app, s))
}

// RegisterApp implements store.Store under the breaker.
func (g *Store) RegisterApp(ctx context.Context, app store.App) (store.App, bool, error) {
	type r struct {
		a  store.App
		ok bool
	}
	v, err := call(g.b, ctx, func(ctx context.Context) (r, error) {
		a, ok, err := g.inner.RegisterApp(ctx, app)
		return r{a, ok}, err
	})
	return v.a, v.ok, err
}

// App implements store.Store under the breaker.
func (g *Store) App(ctx context.Context, id string) (store.App, bool, error) {
	type r struct {
		a  store.App
		ok bool
	}
	v, err := call(g.b, ctx, func(ctx context.Context) (r, error) {
		a, ok, err := g.inner.App(ctx, id)
		return r{a, ok}, err
	})
	return v.a, v.ok, err
}

// Apps implements store.Store under the breaker.
func (g *Store) Apps(ctx context.Context) ([]store.App, error) {
	return call(g.b, ctx, g.inner.Apps)
}

// AppPage implements store.Store under the breaker.
func (g *Store) AppPage(ctx context.Context, after string, limit int) ([]store.App, error) {
	return call(g.b, ctx, func(ctx context.Context) ([]store.App, error) { return g.inner.AppPage(ctx, after, limit) })
}

// DeleteApp implements store.Store under the breaker.
func (g *Store) DeleteApp(ctx context.Context, id string) error {
	return call0(g.b, ctx, func(ctx context.Context) error { return g.inner.DeleteApp(ctx, id) })
}

// UpdateApp implements store.Store under the breaker.
func (g *Store) UpdateApp(ctx context.Context, id string, capability *bool, advance time.Duration) (store.App, error) {
	return call(g.b, ctx, func(ctx context.Context) (store.App, error) { return g.inner.UpdateApp(ctx, id, capability, advance) })
}

// PutToken implements store.Store under the breaker.
func (g *Store) PutToken(ctx context.Context, t store.Token) error {
	return call0(g.b, ctx, func(ctx context.Context) error { return g.inner.PutToken(ctx, t) })
}

// Token implements store.Store under the breaker.
func (g *Store) Token(ctx context.Context, value string) (store.Token, bool, error) {
	type r struct {
		t  store.Token
		ok bool
	}
	v, err := call(g.b, ctx, func(ctx context.Context) (r, error) {
		t, ok, err := g.inner.Token(ctx, value)
		return r{t, ok}, err
	})
	return v.t, v.ok, err
}

// OpenWindow implements store.Store under the breaker.
func (g *Store) OpenWindow(ctx context.Context, app, openID string, t time.Time) error {
	return call0(g.b, ctx, func(ctx context.Context) error { return g.inner.OpenWindow(ctx, app, openID, t) })
}

// TakeReply implements store.Store under the breaker.
func (g *Store) TakeReply(ctx context.Context, app, openID string, now time.Time, rule store.WindowRule) (store.ReplyTake, error) {
	return call(g.b, ctx, func(ctx context.Context) (store.ReplyTake, error) {
		return g.inner.TakeReply(ctx, app, openID, now, rule)
	})
}

// Windows implements store.Store under the breaker.
func (g *Store) Windows(ctx context.Context, app string) ([]store.Window, error) {
	return call(g.b, ctx, func(ctx context.Context) ([]store.Window, error) { return g.inner.Windows(ctx, app) })
}

// TakeCount implements store.Store under the breaker.
func (g *Store) TakeCount(ctx context.Context, app, name, period string, limit int) (int, bool, error) {
	type r struct {
		n  int
		ok bool
	}
	v, err := call(g.b, ctx, func(ctx context.Context) (r, error) {
		n, ok, err := g.inner.TakeCount(ctx, app, name, period, limit)
		return r{n, ok}, err
	})
	return v.n, v.ok, err
}

// TakeCounts implements store.Store under the breaker.
func (g *Store) TakeCounts(ctx context.Context, takes []store.Take) (store.TakesResult, error) {
	return call(g.b, ctx, func(ctx context.Context) (store.TakesResult, error) { return g.inner.TakeCounts(ctx, takes) })
}

// Counters implements store.Store under the breaker.
func (g *Store) Counters(ctx context.Context, app string) (map[string]store.Counter, error) {
	return call(g.b, ctx, func(ctx context.Context) (map[string]store.Counter, error) { return g.inner.Counters(ctx, app) })
}

// Rules implements store.Store under the breaker.
func (g *Store) Rules(ctx context.Context) (store.RuleSet, error) {
	return call(g.b, ctx, g.inner.Rules)
}

// PutRules implements store.Store under the breaker.
func (g *Store) PutRules(ctx context.Context, rules []byte) (store.RuleSet, error) {
	return call(g.b, ctx, func(ctx context.Context) (store.RuleSet, error) { return g.inner.PutRules(ctx, rules) })
}

// Faults implements store.Store under the breaker.
func (g *Store) Faults(ctx context.Context) (store.FaultSet, error) {
	return call(g.b, ctx, g.inner.Faults)
}

// PutFaults implements store.Store under the breaker.
func (g *Store) PutFaults(ctx context.Context, global []byte) (store.FaultSet, error) {
	return call(g.b, ctx, func(ctx context.Context) (store.FaultSet, error) { return g.inner.PutFaults(ctx, global) })
}

// RestartFaults implements store.Store under the breaker.
func (g *Store) RestartFaults(ctx context.Context) (store.FaultSet, error) {
	return call(g.b, ctx, g.inner.RestartFaults)
}

// TakeFault implements store.Store under the breaker.
func (g *Store) TakeFault(ctx context.Context, v uint64, plan store.PlanID, p store.FaultPolicy) (store.FaultTake, error) {
	return call(g.b, ctx, func(ctx context.Context) (store.FaultTake, error) { return g.inner.TakeFault(ctx, v, plan, p) })
}

// FaultCounts implements store.Store under the breaker.
func (g *Store) FaultCounts(ctx context.Context, v uint64) (map[store.PlanID]store.FaultCount, error) {
	return call(g.b, ctx, func(ctx context.Context) (map[store.PlanID]store.FaultCount, error) {
		return g.inner.FaultCounts(ctx, v)
	})
}

// Append implements store.Store under the breaker.
func (g *Store) Append(ctx context.Context, e store.Entry) (uint64, error) {
	return call(g.b, ctx, func(ctx context.Context) (uint64, error) { return g.inner.Append(ctx, e) })
}

// Journal implements store.Store under the breaker.
func (g *Store) Journal(ctx context.Context, q store.Query) ([]store.Entry, error) {
	return call(g.b, ctx, func(ctx context.Context) ([]store.Entry, error) { return g.inner.Journal(ctx, q) })
}

// JournalStats implements store.Store under the breaker.
func (g *Store) JournalStats(ctx context.Context, app string) (int, int, error) {
	type r struct{ held, dropped int }
	v, err := call(g.b, ctx, func(ctx context.Context) (r, error) {
		h, d, err := g.inner.JournalStats(ctx, app)
		return r{h, d}, err
	})
	return v.held, v.dropped, err
}

// Feed implements store.Store: it waits as long as ctx lets it (no deadline), and fails at once
// while the breaker is open.
func (g *Store) Feed(ctx context.Context, after uint64, limit int) ([]store.Entry, error) {
	if open, _ := g.b.Open(); open {
		if _, _, err := g.b.begin(ctx); err != nil {
			return nil, err
		}
	}
	return g.inner.Feed(ctx, after, limit)
}

// Head implements store.Store under the breaker.
func (g *Store) Head(ctx context.Context) (uint64, error) { return call(g.b, ctx, g.inner.Head) }

// PutSession implements store.Store under the breaker.
func (g *Store) PutSession(ctx context.Context, id string, expires time.Time) error {
	return call0(g.b, ctx, func(ctx context.Context) error { return g.inner.PutSession(ctx, id, expires) })
}

// Session implements store.Store under the breaker.
func (g *Store) Session(ctx context.Context, id string, now time.Time) (bool, error) {
	return call(g.b, ctx, func(ctx context.Context) (bool, error) { return g.inner.Session(ctx, id, now) })
}

// DeleteSession implements store.Store under the breaker.
func (g *Store) DeleteSession(ctx context.Context, id string) error {
	return call0(g.b, ctx, func(ctx context.Context) error { return g.inner.DeleteSession(ctx, id) })
}

// Ping implements store.Store under the breaker: while the breaker is open it fails at once.
func (g *Store) Ping(ctx context.Context) error { return call0(g.b, ctx, g.inner.Ping) }

// PutRecord implements store.Store under the breaker.
func (g *Store) PutRecord(ctx context.Context, app string, r store.Record) error {
	return call0(g.b, ctx, func(ctx context.Context) error { return g.inner.PutRecord(ctx, app, r) })
}

// Record implements store.Store under the breaker.
func (g *Store) Record(ctx context.Context, app, kind, id string) (store.Record, bool, error) {
	type r struct {
		rec store.Record
		ok  bool
	}
	v, err := call(g.b, ctx, func(ctx context.Context) (r, error) {
		rec, ok, err := g.inner.Record(ctx, app, kind, id)
		return r{rec, ok}, err
	})
	return v.rec, v.ok, err
}

// TakeRecord implements store.Store under the breaker.
func (g *Store) TakeRecord(ctx context.Context, app, kind, id string) (store.Record, bool, error) {
	type r struct {
		rec store.Record
		ok  bool
	}
	v, err := call(g.b, ctx, func(ctx context.Context) (r, error) {
		rec, ok, err := g.inner.TakeRecord(ctx, app, kind, id)
		return r{rec, ok}, err
	})
	return v.rec, v.ok, err
}

// Records implements store.Store under the breaker.
func (g *Store) Records(ctx context.Context, app, kind, after string, limit int) ([]store.Record, error) {
	return call(g.b, ctx, func(ctx context.Context) ([]store.Record, error) {
		return g.inner.Records(ctx, app, kind, after, limit)
	})
}

// GiveBack implements store.Store under the breaker.
func (g *Store) GiveBack(ctx context.Context, app, openID, id string) (bool, error) {
	return call(g.b, ctx, func(ctx context.Context) (bool, error) { return g.inner.GiveBack(ctx, app, openID, id) })
}

// AppendOnce implements store.Store under the breaker.
func (g *Store) AppendOnce(ctx context.Context, e store.Entry) (uint64, bool, error) {
	type r struct {
		seq uint64
		ok  bool
	}
	v, err := call(g.b, ctx, func(ctx context.Context) (r, error) {
		seq, ok, err := g.inner.AppendOnce(ctx, e)
		return r{seq, ok}, err
	})
	return v.seq, v.ok, err
}

// AddRecord implements store.Store under the breaker.
func (g *Store) AddRecord(ctx context.Context, app string, r store.Record) (bool, error) {
	return call(g.b, ctx, func(ctx context.Context) (bool, error) { return g.inner.AddRecord(ctx, app, r) })
}
