package memstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smartappmock/smartappmock/store"
)

// plans are the rules and fault plans of a Store, with the fault counts of the current
// version. Readers get immutable snapshots; every change makes a new version.
type plans struct {
	mu      sync.Mutex
	rules   store.RuleSet
	faults  store.FaultSet
	counts  map[store.PlanID]*store.FaultCount // of faults.Version
	version uint64                             // the last version given, rules and faults alike
	set     bool                               // rules and faults were set (seeded or put) at least once

	// snap is what readers see: a copy of rules and faults taken after every change, so that the
	// two reads of every send take no lock.
	snap atomic.Pointer[planSnap]
}

type planSnap struct {
	rules  store.RuleSet
	faults store.FaultSet
}

// publishLocked makes the current rules and faults visible to readers. mu must be held.
func (p *plans) publishLocked() { p.snap.Store(&planSnap{rules: p.rules, faults: p.faults}) }

func (p *plans) init() {
	p.counts = map[store.PlanID]*store.FaultCount{}
	p.publishLocked()
}

func (p *plans) next() uint64 { p.version++; return p.version }

// Rules implements store.Store.
func (m *Store) Rules(context.Context) (store.RuleSet, error) {
	return m.plans.snap.Load().rules, nil
}

// PutRules implements store.Store.
func (m *Store) PutRules(_ context.Context, rules []byte) (store.RuleSet, error) {
	m.plans.mu.Lock()
	defer m.plans.mu.Unlock()
	m.plans.set = true
	m.plans.rules = store.RuleSet{Version: m.plans.next(), Rules: slices.Clone(rules)}
	m.plans.publishLocked()
	return m.plans.rules, nil
}

// Faults implements store.Store.
func (m *Store) Faults(context.Context) (store.FaultSet, error) {
	return m.plans.snap.Load().faults, nil
}

// PutFaults implements store.Store.
func (m *Store) PutFaults(_ context.Context, global []byte) (store.FaultSet, error) {
	m.plans.mu.Lock()
	defer m.plans.mu.Unlock()
	m.plans.set = true
	m.setFaultsLocked(slices.Clone(global), m.plans.faults.Apps)
	return m.plans.faults, nil
}

// RestartFaults implements store.Store.
func (m *Store) RestartFaults(context.Context) (store.FaultSet, error) {
	m.plans.mu.Lock()
	defer m.plans.mu.Unlock()
	m.setFaultsLocked(m.plans.faults.Global, m.plans.faults.Apps)
	return m.plans.faults, nil
}

// setFaultsLocked installs plans under a new version with fresh counts. plans.mu must be held.
func (m *Store) setFaultsLocked(global []byte, apps map[string][]byte) {
	if len(apps) == 0 {
		apps = nil
	}
	m.plans.faults = store.FaultSet{Version: m.plans.next(), Global: global, Apps: apps}
	m.plans.counts = map[store.PlanID]*store.FaultCount{}
	m.plans.publishLocked()
}

// TakeFault implements store.Store.
func (m *Store) TakeFault(_ context.Context, v uint64, plan store.PlanID, p store.FaultPolicy) (store.FaultTake, error) {
	m.plans.mu.Lock()
	defer m.plans.mu.Unlock()
	if v != m.plans.faults.Version {
		// The plans changed since the caller read them: the send counts toward no plan.
		return store.FaultTake{}, nil
	}
	c := m.plans.counts[plan]
	if c == nil {
		c = &store.FaultCount{}
		m.plans.counts[plan] = c
	}
	return store.DecideFault(c, p), nil
}

// FaultCounts implements store.Store.
func (m *Store) FaultCounts(_ context.Context, v uint64) (map[store.PlanID]store.FaultCount, error) {
	m.plans.mu.Lock()
	defer m.plans.mu.Unlock()
	out := map[store.PlanID]store.FaultCount{}
	if v != m.plans.faults.Version {
		return out, nil
	}
	for id, c := range m.plans.counts {
		out[id] = *c
	}
	return out, nil
}

// Seed implements store.Store.
func (m *Store) Seed(ctx context.Context, s store.Seed) error {
	m.seedMu.Lock()
	defer m.seedMu.Unlock()
	return m.seedLocked(ctx, s)
}

func (m *Store) seedLocked(ctx context.Context, s store.Seed) error {
	for _, a := range s.Apps {
		if _, _, err := m.RegisterApp(ctx, a); err != nil {
			return err
		}
	}
	m.tokMu.Lock()
	for _, t := range s.Tokens {
		if _, ok := m.tokens[t.Value]; !ok {
			m.tokens[t.Value] = t
		}
	}
	m.tokMu.Unlock()
	for _, w := range s.Windows {
		t := m.tenant(w.App, true)
		t.mu.Lock()
		if _, ok := t.windows[w.OpenID]; !ok {
			t.windows[w.OpenID] = &store.Window{OpenID: w.OpenID, OpenedAt: s.At, UserMessage: true}
		}
		t.mu.Unlock()
	}
	for _, r := range s.Records {
		if _, err := m.putRecord(r.App, r.Record, false); err != nil {
			return err
		}
	}
	m.plans.mu.Lock()
	if !m.plans.set {
		m.plans.set = true
		m.plans.rules = store.RuleSet{Version: m.plans.next(), Rules: slices.Clone(s.Rules)}
		m.plans.publishLocked()
		m.setFaultsLocked(slices.Clone(s.Faults), maps.Clone(s.AppFaults))
	}
	m.plans.mu.Unlock()
	return nil
}

// Reset implements store.Store.
func (m *Store) Reset(ctx context.Context, app string, s store.Seed) error {
	m.seedMu.Lock()
	defer m.seedMu.Unlock()
	if app != "" {
		return m.resetApp(app, s)
	}
	m.mu.Lock()
	old := m.tenants
	m.tenants = map[string]*tenant{}
	m.clearHot()
	m.mu.Unlock()
	for _, t := range old {
		m.retire(t)
	}
	m.tokMu.Lock()
	m.tokens, m.tokOrder = map[string]store.Token{}, nil
	m.tokMu.Unlock()
	m.plans.mu.Lock()
	m.plans.set = false
	m.plans.mu.Unlock()
	return m.seedLocked(ctx, s)
}

func (m *Store) resetApp(id string, s store.Seed) error {
	t := m.tenant(id, false)
	if t == nil {
		return fmt.Errorf("%w %q", store.ErrUnknownApp, id)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.windows = map[string]*store.Window{}
	t.takes = nil
	t.counters = map[string]store.Counter{}
	t.records, t.nrecords = nil, 0
	if !t.evicted {
		m.held.Add(int64(-t.n))
	}
	t.ring, t.head, t.n, t.dropped = nil, 0, 0, 0
	if t.exists {
		t.app.ClockOffset, t.app.Capability = 0, true
		if a, ok := seededApp(s, id); ok {
			t.app.Capability = a.Capability
		}
	}
	for _, w := range s.Windows {
		if w.App == id {
			t.windows[w.OpenID] = &store.Window{OpenID: w.OpenID, OpenedAt: s.At, UserMessage: true}
		}
	}
	for _, r := range s.Records {
		if r.App == id {
			if err := store.CheckRecordKey(r.Record.Kind, r.Record.ID); err != nil {
				return err
			}
			t.setRecordLocked(r.Record)
		}
	}
	return nil
}

// maxSessions bounds the in-memory sessions: past it, the half that expires first is dropped.
const maxSessions = 1024

// PutSession implements store.Store.
func (m *Store) PutSession(_ context.Context, id string, expires time.Time) error {
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	if len(m.sessions) >= maxSessions {
		exps := make([]time.Time, 0, len(m.sessions))
		for _, exp := range m.sessions {
			exps = append(exps, exp)
		}
		slices.SortFunc(exps, time.Time.Compare)
		cut := exps[len(exps)/2]
		for k, exp := range m.sessions {
			if exp.Before(cut) {
				delete(m.sessions, k)
			}
		}
	}
	m.sessions[id] = expires
	return nil
}

// Session implements store.Store.
func (m *Store) Session(_ context.Context, id string, now time.Time) (bool, error) {
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	exp, ok := m.sessions[id]
	return ok && now.Before(exp), nil
}

// DeleteSession implements store.Store.
func (m *Store) DeleteSession(_ context.Context, id string) error {
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	delete(m.sessions, id)
	return nil
}

// Ping implements store.Store: memory always answers.
func (m *Store) Ping(context.Context) error { return nil }

// seededApp returns the app of s with the given id, or false.
func seededApp(s store.Seed, id string) (store.App, bool) {
	for _, a := range s.Apps {
		if a.ID == id {
			return a, true
		}
	}
	return store.App{}, false
}
