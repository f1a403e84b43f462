package memstore

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"time"
	"weak"

	"github.com/smartappmock/smartappmock/store"
)

// The outbox of a Store (store.Outbox) lives beside it, like its push state (memory_push.go):
// found by a weak pointer to the Store, dropped when the Store is collected. Leases run on the
// real clock, as Redis's do.
var (
	outboxMu     sync.Mutex
	outboxStates = map[weak.Pointer[Store]]*memoryOutbox{}
)

type memoryOutbox struct {
	mu      sync.Mutex
	seq     uint64
	jobs    map[string]*outboxJob
	order   []string // ids in enqueue order; finished ones are skipped and dropped lazily
	results map[string]outboxResult
}

type outboxJob struct {
	data     []byte
	consumer string    // "" while never claimed
	until    time.Time // the lease's end
	claims   int
}

type outboxResult struct {
	data  []byte
	until time.Time
}

func (m *Store) outbox() *memoryOutbox {
	k := weak.Make(m)
	outboxMu.Lock()
	defer outboxMu.Unlock()
	o := outboxStates[k]
	if o == nil {
		o = &memoryOutbox{jobs: map[string]*outboxJob{}, results: map[string]outboxResult{}}
		outboxStates[k] = o
		runtime.AddCleanup(m, func(k weak.Pointer[Store]) {
			outboxMu.Lock()
			delete(outboxStates, k)
			outboxMu.Unlock()
		}, k)
	}
	return o
}

// Enqueue implements store.Outbox.
func (m *Store) Enqueue(_ context.Context, job []byte) (string, error) {
	o := m.outbox()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq++
	id := strconv.FormatUint(o.seq, 10)
	o.jobs[id] = &outboxJob{data: append([]byte{}, job...)}
	o.order = append(o.order, id)
	return id, nil
}

// Claim implements store.Outbox: expired leases first, then jobs never claimed, oldest first.
func (m *Store) Claim(_ context.Context, consumer string, lease time.Duration, max int) ([]store.Claimed, error) {
	o := m.outbox()
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	live := o.order[:0]
	for _, id := range o.order {
		if _, ok := o.jobs[id]; ok {
			live = append(live, id)
		}
	}
	o.order = live
	var out []store.Claimed
	take := func(id string, j *outboxJob) {
		j.consumer, j.until = consumer, now.Add(lease)
		j.claims++
		out = append(out, store.Claimed{ID: id, Job: append([]byte{}, j.data...), Claims: j.claims})
	}
	for _, id := range o.order {
		if len(out) >= max {
			return out, nil
		}
		if j := o.jobs[id]; j.consumer != "" && !now.Before(j.until) {
			take(id, j)
		}
	}
	for _, id := range o.order {
		if len(out) >= max {
			break
		}
		if j := o.jobs[id]; j.consumer == "" {
			take(id, j)
		}
	}
	return out, nil
}

// Extend implements store.Outbox.
func (m *Store) Extend(_ context.Context, consumer, id string, lease time.Duration) (bool, error) {
	o := m.outbox()
	o.mu.Lock()
	defer o.mu.Unlock()
	j, ok := o.jobs[id]
	if !ok || j.consumer != consumer {
		return false, nil
	}
	j.until = time.Now().Add(lease)
	return true, nil
}

// Release implements store.Outbox.
func (m *Store) Release(_ context.Context, consumer, id string) error {
	o := m.outbox()
	o.mu.Lock()
	defer o.mu.Unlock()
	if j, ok := o.jobs[id]; ok && j.consumer == consumer {
		j.until = time.Time{} // expired: the next Claim takes it
	}
	return nil
}

// Finish implements store.Outbox.
func (m *Store) Finish(_ context.Context, id string, result []byte, keep time.Duration) error {
	o := m.outbox()
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	for k, r := range o.results { // results expire: the map stays as small as the recent jobs
		if now.After(r.until) {
			delete(o.results, k)
		}
	}
	delete(o.jobs, id)
	o.results[id] = outboxResult{data: append([]byte{}, result...), until: now.Add(keep)}
	return nil
}

// Result implements store.Outbox.
func (m *Store) Result(_ context.Context, id string) ([]byte, bool, error) {
	o := m.outbox()
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.results[id]
	if !ok || time.Now().After(r.until) {
		return nil, false, nil
	}
	return append([]byte{}, r.data...), true, nil
}

// OutboxDepth implements store.Outbox.
func (m *Store) OutboxDepth(context.Context) (int, error) {
	o := m.outbox()
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.jobs), nil
}
