package memstore

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/smartappmock/smartappmock/store"
)

// recordTenant returns the tenant that holds app's records: NoApp always exists, another app
// only once registered.
func (m *Store) recordTenant(app string) (*tenant, error) {
	t := m.tenant(app, app == store.NoApp)
	if t == nil {
		return nil, fmt.Errorf("%w %q", store.ErrUnknownApp, app)
	}
	if app != store.NoApp {
		t.mu.Lock()
		exists := t.exists && !t.evicted
		t.mu.Unlock()
		if !exists {
			return nil, fmt.Errorf("%w %q", store.ErrUnknownApp, app)
		}
	}
	t.lastUse.Store(m.tick.Add(1))
	return t, nil
}

// PutRecord implements store.Store.
func (m *Store) PutRecord(_ context.Context, app string, r store.Record) error {
	_, err := m.putRecord(app, r, true)
	return err
}

// AddRecord implements store.Store.
func (m *Store) AddRecord(_ context.Context, app string, r store.Record) (bool, error) {
	return m.putRecord(app, r, false)
}

// putRecord stores r under app and says whether it did; replace false keeps a record that is
// there (AddRecord, Seed).
func (m *Store) putRecord(app string, r store.Record, replace bool) (bool, error) {
	if err := store.CheckRecordKey(r.Kind, r.ID); err != nil {
		return false, err
	}
	t, err := m.recordTenant(app)
	if err != nil {
		return false, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_, there := t.records[r.Kind][r.ID]
	switch {
	case there && !replace:
		return false, nil
	case !there && t.nrecords >= m.limits.MaxRecordsPerApp:
		return false, fmt.Errorf("%w: app %q holds %d", store.ErrRecordsFull, app, t.nrecords)
	}
	t.setRecordLocked(r)
	return true, nil
}

// setRecordLocked stores a copy of r. t.mu must be held.
func (t *tenant) setRecordLocked(r store.Record) {
	if t.records == nil {
		t.records = map[string]map[string][]byte{}
	}
	byID := t.records[r.Kind]
	if byID == nil {
		byID = map[string][]byte{}
		t.records[r.Kind] = byID
	}
	if _, there := byID[r.ID]; !there {
		t.nrecords++
	}
	byID[r.ID] = slices.Clone(r.Data)
}

// Record implements store.Store.
func (m *Store) Record(_ context.Context, app, kind, id string) (store.Record, bool, error) {
	return m.getRecord(app, kind, id, false)
}

// TakeRecord implements store.Store.
func (m *Store) TakeRecord(_ context.Context, app, kind, id string) (store.Record, bool, error) {
	return m.getRecord(app, kind, id, true)
}

func (m *Store) getRecord(app, kind, id string, take bool) (store.Record, bool, error) {
	if err := store.CheckRecordKey(kind, id); err != nil {
		return store.Record{}, false, err
	}
	t := m.tenant(app, false)
	if t == nil {
		return store.Record{}, false, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	data, ok := t.records[kind][id]
	if !ok || t.evicted {
		return store.Record{}, false, nil
	}
	if take {
		delete(t.records[kind], id)
		t.nrecords--
	}
	return store.Record{Kind: kind, ID: id, Data: slices.Clone(data)}, true, nil
}

// Records implements store.Store.
func (m *Store) Records(_ context.Context, app, kind, after string, limit int) ([]store.Record, error) {
	if err := store.CheckRecordKey(kind, "-"); err != nil {
		return nil, err
	}
	t := m.tenant(app, false)
	if t == nil {
		return nil, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.evicted {
		return nil, nil
	}
	ids := make([]string, 0, len(t.records[kind]))
	for id := range t.records[kind] {
		if id > after {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]store.Record, len(ids))
	for i, id := range ids {
		out[i] = store.Record{Kind: kind, ID: id, Data: slices.Clone(t.records[kind][id])}
	}
	return out, nil
}
