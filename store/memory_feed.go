package store

import (
	"context"
	"sync"
)

// feedBacklog is how many of the newest entries the in-memory feed keeps for readers that are
// behind (the journal file, the inbox's live stream after a reconnect).
const feedBacklog = 4096

// feed numbers the entries of a Memory store and keeps the newest of them, in sequence order, for
// Feed. Readers wait on a channel that the next append closes.
type feed struct {
	mu   sync.Mutex
	seq  uint64
	ring []Entry // ring[(seq-1) % len] holds entry seq, for the newest len entries
	wake chan struct{}
}

func (f *feed) init(n int) { f.ring = make([]Entry, n) }

// add numbers e, keeps it and wakes the readers. It returns e's sequence number.
func (f *feed) add(e *Entry) uint64 {
	f.mu.Lock()
	f.seq++
	e.Seq = f.seq
	f.ring[(f.seq-1)%uint64(len(f.ring))] = *e
	if f.wake != nil {
		close(f.wake)
		f.wake = nil
	}
	f.mu.Unlock()
	return e.Seq
}

// Feed implements Store.
func (m *Memory) Feed(ctx context.Context, after uint64, limit int) ([]Entry, error) {
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
			out := make([]Entry, 0, to-from+1)
			for s := from; s <= to; s++ {
				out = append(out, f.ring[(s-1)%uint64(len(f.ring))])
			}
			f.mu.Unlock()
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

// Head implements Store.
func (m *Memory) Head(context.Context) (uint64, error) {
	m.feed.mu.Lock()
	defer m.feed.mu.Unlock()
	return m.feed.seq, nil
}
