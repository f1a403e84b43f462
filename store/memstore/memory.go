// Package memstore is the in-memory store.Store: the fake's state in one process, bounded
// whatever the traffic, with each journal entry kept as one encoded record.
package memstore

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smartappmock/smartappmock/store"
)

// Store is the in-memory store.Store: one lock per app, so apps never wait on each other, and a
// bounded journal ring per app, whose entries it keeps encoded (memory_record.go: one copy, shared
// with the live feed, that a collection does not scan). Its memory is bounded whatever the
// traffic (see Limits): past MaxTenants the least recently used apps that did not come from the
// configuration are evicted, past MaxTokens the oldest issued tokens, and past MaxWindowsPerApp
// an app's oldest windows.
type Store struct {
	journalCap int
	limits     Limits
	tick       atomic.Int64 // use clock of tenants, for eviction
	held       atomic.Int64 // journal entries held, all apps
	evicted    atomic.Int64 // tenants evicted so far

	mu      sync.RWMutex
	tenants map[string]*tenant
	// hot holds tenants looked up lately, by a hash of their id, so that a send's lookups (three)
	// do not each take mu, whose reader count both cores of a loaded server would bounce between
	// them. Slots are filled with mu held, and cleared with it held for writing whenever a
	// tenant leaves tenants.
	hot [16]atomic.Pointer[tenant]

	tokMu    sync.RWMutex
	tokens   map[string]store.Token
	tokOrder []string // issued (evictable) tokens, oldest first

	feed  feed  // the live feed: memory_feed.go
	plans plans // rules and fault plans: memory_plans.go

	sessMu   sync.Mutex
	sessions map[string]time.Time

	seedMu sync.Mutex // Seed and Reset, one at a time
}

// Limits bound a Store. Zero fields take the defaults of DefaultLimits.
type Limits struct {
	// MaxTenants is how many apps the store keeps; past it, the least recently used apps that are
	// not pinned (configured apps and the app-less journal are) are evicted with their state.
	MaxTenants int
	// MaxTokens is how many issued tokens the store keeps; past it, the oldest are forgotten (a
	// lookup no longer finds them). Configured tokens (no expiry) are never dropped.
	MaxTokens int
	// MaxWindowsPerApp is how many open_id windows an app keeps; past it, expired windows and then
	// the oldest are dropped.
	MaxWindowsPerApp int
	// MaxRecordsPerApp is how many records (users, codes, consents) an app keeps; past it, a new
	// record is refused (store.ErrRecordsFull).
	MaxRecordsPerApp int
}

// DefaultLimits are the limits of New.
func DefaultLimits() Limits {
	return Limits{MaxTenants: 4096, MaxTokens: 100_000, MaxWindowsPerApp: 10_000, MaxRecordsPerApp: 100_000}
}

type tenant struct {
	id      string
	lastUse atomic.Int64 // Store.tick at the last use
	pinned  atomic.Bool  // never evicted: a configured app or the app-less bucket

	mu       sync.Mutex
	evicted  bool // dropped from the store; a request still holding it no longer counts
	app      store.App
	exists   bool // false for the NoApp bucket and apps known only from journal entries
	windows  map[string]*store.Window
	takes    map[string]*takeRing // open_id -> request ids of its window's replies, for GiveBack
	counters map[string]store.Counter
	records  map[string]map[string][]byte // kind -> id -> data: memory_records.go
	nrecords int
	ring     []record // the journal, oldest at head: memory_record.go
	head     int      // index of the oldest entry
	n        int
	dropped  int
}

// New returns an empty in-memory store that keeps at most journalCap entries per app
// (1000 when journalCap <= 0).
func New(journalCap int) *Store {
	return NewWithLimits(journalCap, DefaultLimits())
}

// NewWithLimits is New with explicit memory limits.
func NewWithLimits(journalCap int, limits Limits) *Store {
	if journalCap <= 0 {
		journalCap = 1000
	}
	def := DefaultLimits()
	if limits.MaxTenants <= 0 {
		limits.MaxTenants = def.MaxTenants
	}
	if limits.MaxTokens <= 0 {
		limits.MaxTokens = def.MaxTokens
	}
	if limits.MaxWindowsPerApp <= 0 {
		limits.MaxWindowsPerApp = def.MaxWindowsPerApp
	}
	if limits.MaxRecordsPerApp <= 0 {
		limits.MaxRecordsPerApp = def.MaxRecordsPerApp
	}
	m := &Store{journalCap: journalCap, limits: limits, tenants: map[string]*tenant{}, tokens: map[string]store.Token{}, sessions: map[string]time.Time{}}
	m.feed.init(feedBacklog)
	m.plans.init()
	return m
}

func (m *Store) tenant(id string, create bool) *tenant {
	slot := &m.hot[hotSlot(id)]
	if t := slot.Load(); t != nil && t.id == id {
		return t
	}
	m.mu.RLock()
	t := m.tenants[id]
	if t != nil {
		slot.Store(t)
	}
	m.mu.RUnlock()
	if t != nil || !create {
		return t
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t = m.tenants[id]; t == nil {
		if len(m.tenants) >= m.limits.MaxTenants {
			m.evictLocked()
		}
		t = &tenant{id: strings.Clone(id), windows: map[string]*store.Window{}, counters: map[string]store.Counter{}}
		t.pinned.Store(id == store.NoApp)
		t.lastUse.Store(m.tick.Add(1))
		m.tenants[id] = t
	}
	slot.Store(t)
	return t
}

// hotSlot picks the slot of Store.hot for a tenant id.
func hotSlot(id string) int {
	if id == "" {
		return 0
	}
	return (len(id) ^ int(id[len(id)-1]) ^ int(id[len(id)/2])) % 16
}

// retire marks t, which left m.tenants, as gone: its journal entries leave the count of held
// entries, and a request still holding t no longer counts what it adds.
func (m *Store) retire(t *tenant) {
	t.mu.Lock()
	if !t.evicted {
		m.held.Add(int64(-t.n))
	}
	t.evicted = true
	t.mu.Unlock()
}

// clearHot empties Store.hot: a tenant left tenants. m.mu must be held for writing.
func (m *Store) clearHot() {
	for i := range m.hot {
		m.hot[i].Store(nil)
	}
}

// Lookup implements store.Store. The in-memory store has no clock of its own (Now is zero).
func (m *Store) Lookup(ctx context.Context, token, fallback string) (store.Lookup, error) {
	return m.LookupWith(ctx, token, fallback, store.RecordKey{})
}

// LookupWith implements store.Store.
func (m *Store) LookupWith(ctx context.Context, token, fallback string, probe store.RecordKey) (store.Lookup, error) {
	snap := m.plans.snap.Load()
	lk := store.Lookup{Rules: snap.rules.Version, Faults: snap.faults.Version}
	id := fallback
	if token != "" {
		lk.Token, lk.TokenFound, _ = m.Token(ctx, token)
		if lk.TokenFound {
			id = lk.Token.App
		}
	}
	if id != "" {
		lk.App, lk.AppFound, _ = m.App(ctx, id)
	}
	if lk.AppFound && probe.Kind != "" && probe.ID != "" {
		_, lk.Held, _ = m.getRecord(lk.App.ID, probe.Kind, probe.ID, false)
		lk.Probed = true
	}
	return lk, nil
}

// RegisterApp implements store.Store.
func (m *Store) RegisterApp(_ context.Context, app store.App) (store.App, bool, error) {
	t := m.tenant(app.ID, true)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.exists {
		return t.app, false, nil
	}
	t.app, t.exists = app, true
	if app.Source == "config" {
		t.pinned.Store(true)
	}
	return app, true, nil
}

// App implements store.Store.
func (m *Store) App(_ context.Context, id string) (store.App, bool, error) {
	t := m.tenant(id, false)
	if t == nil {
		return store.App{}, false, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.app, t.exists, nil
}

// allTenants returns every tenant held now. The caller locks each one it reads.
func (m *Store) allTenants() []*tenant {
	m.mu.RLock()
	defer m.mu.RUnlock()
	ts := make([]*tenant, 0, len(m.tenants))
	for _, t := range m.tenants {
		ts = append(ts, t)
	}
	return ts
}

// Apps implements store.Store.
func (m *Store) Apps(_ context.Context) ([]store.App, error) {
	ts := m.allTenants()
	var out []store.App
	for _, t := range ts {
		t.mu.Lock()
		if t.exists {
			out = append(out, t.app)
		}
		t.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// AppPage implements store.Store. The store holds at most Limits.MaxTenants apps beside the
// configured ones, so a page costs at most a sort of those.
func (m *Store) AppPage(ctx context.Context, after string, limit int) ([]store.App, error) {
	all, _ := m.Apps(ctx)
	i := sort.Search(len(all), func(i int) bool { return all[i].ID > after })
	all = all[i:]
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	return all, nil
}

// InProcess reports that the store never waits for anything outside the process (guard.Local):
// it needs no deadline nor breaker.
func (m *Store) InProcess() bool { return true }

// UpdateApp implements store.Store.
func (m *Store) UpdateApp(_ context.Context, id string, capability *bool, advance time.Duration) (store.App, error) {
	t := m.tenant(id, false)
	if t == nil {
		return store.App{}, fmt.Errorf("%w %q", store.ErrUnknownApp, id)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.exists {
		return store.App{}, fmt.Errorf("%w %q", store.ErrUnknownApp, id)
	}
	if capability != nil {
		t.app.Capability = *capability
	}
	t.app.ClockOffset += advance
	return t.app, nil
}

// PutToken implements store.Store.
func (m *Store) PutToken(_ context.Context, tok store.Token) error {
	m.tokMu.Lock()
	defer m.tokMu.Unlock()
	_, replaced := m.tokens[tok.Value]
	m.tokens[tok.Value] = tok
	if tok.Expires.IsZero() || replaced {
		return nil // a configured token: kept for good
	}
	m.tokOrder = append(m.tokOrder, tok.Value)
	for len(m.tokOrder) > m.limits.MaxTokens {
		delete(m.tokens, m.tokOrder[0])
		m.tokOrder = m.tokOrder[1:]
	}
	if cap(m.tokOrder) > 2*m.limits.MaxTokens {
		m.tokOrder = append([]string(nil), m.tokOrder...) // let the dropped prefix go
	}
	return nil
}

// Token implements store.Store.
func (m *Store) Token(_ context.Context, value string) (store.Token, bool, error) {
	m.tokMu.RLock()
	tok, ok := m.tokens[value]
	m.tokMu.RUnlock()
	return tok, ok, nil
}

// OpenWindow implements store.Store.
func (m *Store) OpenWindow(_ context.Context, app, openID string, at time.Time) error {
	t := m.tenant(app, true)
	t.mu.Lock()
	if _, ok := t.windows[openID]; !ok {
		t.boundWindows(m.limits.MaxWindowsPerApp, at, 0)
	}
	openID = strings.Clone(openID) // kept: never a piece of the caller's request body
	t.windows[openID] = &store.Window{OpenID: openID, OpenedAt: at, UserMessage: true}
	delete(t.takes, openID)
	t.mu.Unlock()
	return nil
}

// TakeReply implements store.Store.
func (m *Store) TakeReply(ctx context.Context, app, openID string, now time.Time, rule store.WindowRule) (store.ReplyTake, error) {
	t := m.tenant(app, true)
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.windows[openID]
	expired := w != nil && !now.Before(w.OpenedAt.Add(rule.Duration))
	if w == nil || expired {
		if !rule.OpenOnFirst {
			if expired {
				return store.ReplyTake{Refusal: store.ReplyExpired, Window: *w}, nil
			}
			return store.ReplyTake{Refusal: store.ReplyNoWindow}, nil
		}
		openID = strings.Clone(openID) // kept: never a piece of the caller's request body (it would pin it)
		w = &store.Window{OpenID: openID, OpenedAt: now}
		t.boundWindows(m.limits.MaxWindowsPerApp, now, rule.Duration)
		t.windows[openID] = w
		delete(t.takes, openID)
	}
	if w.Replies >= rule.MaxReplies {
		return store.ReplyTake{Refusal: store.ReplyFull, Window: *w}, nil
	}
	w.Replies++
	if id := store.RequestOf(ctx); id != "" {
		t.keepTake(w.OpenID, id)
	}
	return store.ReplyTake{OK: true, Window: *w}, nil
}

// takeRing holds the request ids of a window's newest replies (the newest 32 are kept).
type takeRing struct {
	ids  [32]string
	next int
}

// keepTake keeps id as a reply counted in openID's window. t.mu must be held.
func (t *tenant) keepTake(openID, id string) {
	if t.takes == nil {
		t.takes = map[string]*takeRing{}
	}
	r := t.takes[openID]
	if r == nil {
		r = &takeRing{}
		t.takes[openID] = r
	}
	r.ids[r.next] = strings.Clone(id)
	r.next = (r.next + 1) % len(r.ids)
}

// GiveBack implements store.Store.
func (m *Store) GiveBack(_ context.Context, app, openID, id string) (bool, error) {
	t := m.tenant(app, false)
	if t == nil {
		return false, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	r, w := t.takes[openID], t.windows[openID]
	if r == nil || w == nil || id == "" {
		return false, nil
	}
	i := slices.Index(r.ids[:], id)
	if i < 0 {
		return false, nil
	}
	r.ids[i] = ""
	w.Replies = max(w.Replies-1, 0)
	return true, nil
}

// Windows implements store.Store.
func (m *Store) Windows(_ context.Context, app string) ([]store.Window, error) {
	t := m.tenant(app, false)
	if t == nil {
		return nil, nil
	}
	t.mu.Lock()
	out := make([]store.Window, 0, len(t.windows))
	for _, w := range t.windows {
		out = append(out, *w)
	}
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].OpenID < out[j].OpenID })
	return out, nil
}

// TakeCount implements store.Store.
func (m *Store) TakeCount(_ context.Context, app, name, window string, limit int) (int, bool, error) {
	t := m.tenant(app, true)
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.counters[name]
	if c.Window != window {
		c = store.Counter{Window: window}
	}
	if limit > 0 && c.Count >= limit {
		t.counters[name] = c
		return c.Count, false, nil
	}
	c.Count++
	t.counters[name] = c
	return c.Count, true, nil
}

// TakeCounts implements store.Store: each take is atomic, as TakeCount; a sequence is not.
func (m *Store) TakeCounts(ctx context.Context, takes []store.Take) (store.TakesResult, error) {
	for i, tk := range takes {
		n, ok, _ := m.TakeCount(ctx, tk.App, tk.Name, tk.Period, tk.Limit)
		if ok == tk.EndsWhenCounted {
			return store.TakesResult{Ended: i, Count: n}, nil
		}
	}
	return store.TakesResult{Ended: -1}, nil
}

// Counters implements store.Store.
func (m *Store) Counters(_ context.Context, app string) (map[string]store.Counter, error) {
	out := map[string]store.Counter{}
	t := m.tenant(app, false)
	if t == nil {
		return out, nil
	}
	t.mu.Lock()
	for k, v := range t.counters {
		out[k] = v
	}
	t.mu.Unlock()
	return out, nil
}

// Append implements store.Store.
func (m *Store) Append(_ context.Context, e store.Entry) (uint64, error) {
	rec := newRecord(&e) // the store's own copy of everything in e, encoded before any lock
	t := m.tenant(e.App, true)
	t.lastUse.Store(m.tick.Add(1))
	t.mu.Lock()
	defer t.mu.Unlock()
	// The feed gives the number, under its own lock: entries enter the feed in sequence order.
	seq := m.feed.add(rec)
	if t.ring == nil {
		t.ring = make([]record, 0, min(m.journalCap, 64))
	}
	if t.n < m.journalCap {
		if len(t.ring) < m.journalCap && t.head+t.n == len(t.ring) {
			t.ring = append(t.ring, rec)
		} else {
			t.ring[(t.head+t.n)%len(t.ring)] = rec
		}
		t.n++
		if !t.evicted {
			m.held.Add(1)
		}
		return seq, nil
	}
	t.ring[t.head] = rec
	t.head = (t.head + 1) % len(t.ring)
	t.dropped++
	return seq, nil
}

// AppendOnce implements store.Store: the app's whole journal is looked through.
func (m *Store) AppendOnce(ctx context.Context, e store.Entry) (uint64, bool, error) {
	if t := m.tenant(e.App, false); t != nil {
		t.mu.Lock()
		for i := range t.n {
			if rec := t.ring[(t.head+i)%len(t.ring)]; rec.entry().ID == e.ID {
				t.mu.Unlock()
				return 0, false, nil
			}
		}
		t.mu.Unlock()
	}
	seq, err := m.Append(ctx, e)
	return seq, err == nil, err
}

// Journal implements store.Store.
func (m *Store) Journal(_ context.Context, q store.Query) ([]store.Entry, error) {
	var ts []*tenant
	if q.App == "" {
		ts = m.allTenants()
	} else if t := m.tenant(q.App, false); t != nil {
		ts = []*tenant{t}
	}
	var out []store.Entry
	for _, t := range ts {
		t.mu.Lock()
		found := 0
		for i := t.n - 1; i >= 0; i-- {
			rec := t.ring[(t.head+i)%len(t.ring)]
			seq := rec.seq()
			if seq <= q.After {
				break // older entries only from here on
			}
			if !q.InRange(seq) {
				continue
			}
			if e := rec.entry(); q.Matches(&e) {
				out = append(out, e)
				if found++; q.Limit > 0 && found == q.Limit {
					break // this app has given all it may
				}
			}
		}
		t.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq > out[j].Seq })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// JournalStats implements store.Store.
func (m *Store) JournalStats(_ context.Context, app string) (int, int, error) {
	t := m.tenant(app, false)
	if t == nil {
		return 0, 0, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n, t.dropped, nil
}

// Stats reports how many tenants and journal entries the store holds (for the metrics).
func (m *Store) Stats() store.Stats {
	m.mu.RLock()
	n := len(m.tenants)
	m.mu.RUnlock()
	m.tokMu.RLock()
	tokens := len(m.tokens)
	m.tokMu.RUnlock()
	return store.Stats{Tenants: n, JournalEntries: int(m.held.Load()), Tokens: tokens}
}

// evictLocked drops the least recently used eighth of the unpinned tenants (at least one), so a
// flood of new apps costs one sort per MaxTenants/8 new apps. m.mu must be held for writing.
func (m *Store) evictLocked() {
	type cand struct {
		id  string
		use int64
	}
	cands := make([]cand, 0, len(m.tenants))
	for id, t := range m.tenants {
		if !t.pinned.Load() {
			cands = append(cands, cand{id, t.lastUse.Load()})
		}
	}
	if len(cands) == 0 {
		return // every tenant is pinned: configured apps are never evicted
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].use < cands[j].use })
	n := max(1, m.limits.MaxTenants/8)
	m.clearHot()
	for _, c := range cands[:min(n, len(cands))] {
		t := m.tenants[c.id]
		delete(m.tenants, c.id)
		m.retire(t)
		m.evicted.Add(1)
	}
}

// boundWindows makes room for one more window: past max it drops expired windows (older than
// ttl before now, when ttl > 0), then the oldest. t.mu must be held.
func (t *tenant) boundWindows(limit int, now time.Time, ttl time.Duration) {
	if len(t.windows) < limit {
		return
	}
	if ttl > 0 {
		for id, w := range t.windows {
			if !now.Before(w.OpenedAt.Add(ttl)) {
				delete(t.windows, id)
				delete(t.takes, id)
			}
		}
	}
	if len(t.windows) < limit {
		return
	}
	ws := make([]*store.Window, 0, len(t.windows))
	for _, w := range t.windows {
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].OpenedAt.Before(ws[j].OpenedAt) })
	for _, w := range ws[:max(1, len(ws)/8)] {
		delete(t.windows, w.OpenID)
		delete(t.takes, w.OpenID)
	}
}

// DeleteApp implements store.Store.
func (m *Store) DeleteApp(_ context.Context, id string) error {
	t := m.tenant(id, false)
	if t == nil {
		return fmt.Errorf("%w %q", store.ErrUnknownApp, id)
	}
	t.mu.Lock()
	exists, source := t.exists, t.app.Source
	t.mu.Unlock()
	if !exists {
		return fmt.Errorf("%w %q", store.ErrUnknownApp, id)
	}
	if source == "config" {
		return fmt.Errorf("%w: %q", store.ErrConfiguredApp, id)
	}
	m.mu.Lock()
	if m.tenants[id] == t {
		delete(m.tenants, id)
		m.clearHot()
	}
	m.mu.Unlock()
	m.retire(t)
	m.tokMu.Lock()
	for v, tok := range m.tokens {
		if tok.App == id {
			delete(m.tokens, v)
		}
	}
	kept := m.tokOrder[:0]
	for _, v := range m.tokOrder {
		if _, ok := m.tokens[v]; ok {
			kept = append(kept, v)
		}
	}
	m.tokOrder = kept
	m.tokMu.Unlock()
	return nil
}
