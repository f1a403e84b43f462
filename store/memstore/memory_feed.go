package memstore

import (
	"context"
	"sync"

	"github.com/smartappmock/smartappmock/store"
)

// feedBacklog is how many of the newest entries the in-memory feed keeps for readers that are
// behind (the journal file, the inbox's live stream after a reconnect; each reads up to 512 a
// call). The feed shares each entry's record with its app's journal; entries that only the feed
// still holds (their app's journal has moved on) cost memory: with 4096, when the feed kept
// copies of its own, the bench's loads peaked about 6 MB higher.
const feedBacklog = 1024

// feed numbers the entries of a Store and keeps the newest of them, in sequence order, for
// Feed. Readers wait on a channel that the next append closes.
type feed struct {
	mu   sync.Mutex
	seq  uint64
	max  int      // the backlog: how many entries ring keeps once full
	ring []record // ring[(seq-1) % len] holds entry seq, for the newest len entries; grows to max
	wake chan struct{}
}

// init sets the backlog. The ring grows with the first n entries instead of being allocated
// here: a store that records little never holds the whole backlog.
func (f *feed) init(n int) { f.max = n }

// add numbers rec (not yet published: it may still be written), keeps it and wakes the readers.
// It returns rec's sequence number. The feed holds the record itself, shared with the app's
// journal ring: a record never changes once published.
func (f *feed) add(rec record) uint64 {
	f.mu.Lock()
	f.seq++
	rec.setSeq(f.seq)
	if len(f.ring) < f.max {
		// Still growing: entry seq goes to index seq-1, which is what the modulo gives below
		// (len(ring) == seq-1 here, and == seq afterwards).
		f.ring = append(f.ring, rec)
	} else {
		f.ring[(f.seq-1)%uint64(len(f.ring))] = rec
	}
	if f.wake != nil {
		close(f.wake)
		f.wake = nil
	}
	seq := f.seq
	f.mu.Unlock()
	return seq
}

// Feed implements store.Store.
func (m *Store) Feed(ctx context.Context, after uint64, limit int) ([]store.Entry, error) {
	f := &m.feed
	if limit <= 0 {
		limit = 256
	}
	for {
		f.mu.Lock()
		if f.seq > after {
			oldest := uint64(1)
			if n := uint64(len(f.ring)); f.seq > n {
				oldest = f.seq - n + 1
			}
			from := max(after+1, oldest)
			to := min(f.seq, from+uint64(limit)-1)
			recs := make([]record, 0, to-from+1)
			for s := from; s <= to; s++ {
				recs = append(recs, f.ring[(s-1)%uint64(len(f.ring))])
			}
			f.mu.Unlock()
			out := make([]store.Entry, len(recs)) // decoded outside the lock that every send takes
			for i, rec := range recs {
				out[i] = rec.entry()
			}
			return out, nil
		}
		if f.wake == nil {
			f.wake = make(chan struct{})
		}
		wake := f.wake
		f.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Head implements store.Store.
func (m *Store) Head(context.Context) (uint64, error) {
	m.feed.mu.Lock()
	defer m.feed.mu.Unlock()
	return m.feed.seq, nil
}
