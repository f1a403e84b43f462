package inbox

import (
	"context"
	"sync"
	"time"

	"github.com/smartappmock/smartappmock/store"
)

// The live stream's fan-out. One reader of the store's feed per process (the hub) encodes each
// entry once into its SSE frames and appends it to a ring shared by every open stream. The hub
// never waits for a stream: it appends and wakes them all with one broadcast. Each stream reads
// the ring from its own cursor (woken only by entries of its app, when it shows one), at most
// once per streamFlushInterval, and writes everything new
// that passes its filters in one write (at most streamMaxFrames frames, fewer when many streams
// share hubFrameBudget: beyond that it writes the newest and a "skipped" event that says how many
// it left out). A stream whose cursor the ring
// has overtaken (more than hubRing entries behind: its socket does not drain) is dropped: its
// stream ends, the drop is logged and counted, and its browser reconnects with Last-Event-ID.
const (
	// hubRing is how many encoded entries the hub keeps for the streams: each stream's bounded
	// buffer is its stretch of this ring (at most hubRing entries behind the newest).
	hubRing = 4096
	// streamFlushInterval is how often a stream writes at most: every entry recorded meanwhile
	// goes in one write, so a stream costs at most two writes a second under any load (the first
	// entry after a quiet spell goes at once).
	streamFlushInterval = 500 * time.Millisecond
	// streamSlow is how long a stream may go without reading the ring (its write blocked: its
	// client does not read) before entries the ring dropped meanwhile end it.
	streamSlow = 2 * time.Second
	// streamMaxFrames is how many entries one write of a stream carries at most (32 a second,
	// more than a person can read); the rest are counted in a "skipped" event, and the thread
	// loads them on a reload.
	streamMaxFrames = 16
	// hubFrameBudget is how many entries one flush interval's writes of all the streams of the
	// process carry at most together (8,000 a second): with more than 250 streams open, each
	// carries a share of it (at least streamMinFrames), so that many tabs on a flooded app cost
	// a bounded amount per second.
	hubFrameBudget = 4000
	// streamMinFrames is the least a write carries when the budget is shared.
	streamMinFrames = 4
)

// frameCap is how many entries one write of a stream may carry when subs streams are open.
func frameCap(subs int) int {
	return max(min(streamMaxFrames, hubFrameBudget/max(subs, 1)), streamMinFrames)
}

// event is one journal entry ready for every stream: the entry (for the stream's filters) and its
// SSE frame encoded once with "match" set and once without.
type event struct {
	e          store.Entry
	match, not []byte
	prev       uint64 // 1 + the ring position of the previous event of the same app (0: none)
}

// hub is the one reader of the store's live feed for all the inbox's event streams of this
// process. It runs while at least one stream is open.
type hub struct {
	in *inbox

	mu   sync.Mutex
	ring [hubRing]*event
	pos  uint64 // how many events were ever appended; event p is ring[p%hubRing]
	// wakes holds, per app, a channel closed at the next append of an entry of that app (or a
	// failure); "" is the streams of every app. A stream of one app sleeps through the others'.
	wakes map[string]chan struct{}
	last  map[string]uint64 // per app, 1 + the position of its newest event
	epoch uint64            // increases when the reader fails: streams of an older epoch end
	subs  int
	stop  context.CancelFunc
	done  chan struct{}
}

func (h *hub) init(in *inbox) {
	h.in, h.wakes, h.last = in, map[string]chan struct{}{}, map[string]uint64{}
}

// wake returns the channel closed at the next event of app ("": of any app).
func (h *hub) wake(app string) chan struct{} {
	ch := h.wakes[app]
	if ch == nil {
		ch = make(chan struct{})
		h.wakes[app] = ch
	}
	return ch
}

// wakeAll wakes every stream.
func (h *hub) wakeAll() {
	for app, ch := range h.wakes {
		close(ch)
		delete(h.wakes, app)
	}
}

// cursor is a stream's place in the hub's ring.
type cursor struct {
	pos, epoch uint64
}

// subscribe registers a stream and returns its cursor: the events appended from now on. Call
// leave when the stream ends.
func (h *hub) subscribe() cursor {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs++
	if h.stop == nil {
		// The reader starts at the head as it is now, before this stream reads its own head: an
		// entry recorded from here on reaches the stream, whichever goroutine runs first.
		from, err := h.in.store.Head(context.Background())
		ctx, stop := context.WithCancel(context.Background())
		h.stop, h.done = stop, make(chan struct{})
		go h.run(ctx, h.done, from, err)
	}
	return cursor{pos: h.pos, epoch: h.epoch}
}

// leave unregisters a stream; the last one stops the reader.
func (h *hub) leave() {
	h.mu.Lock()
	h.subs--
	var done chan struct{}
	if h.subs == 0 && h.stop != nil {
		h.stop()
		done, h.stop = h.done, nil
		h.ring = [hubRing]*event{} // no stream left: the encoded entries go
		clear(h.last)
	}
	h.mu.Unlock()
	if done != nil {
		<-done
	}
}

// next returns the events after c (appending them to out) and moves c past them, with how many
// of them one write may carry (frameCap). When the ring dropped entries the stream had not read
// (missed: how many), a stream that keeps up (not slow: it reads the ring every flush interval,
// and more entries came in one than the ring holds) skips them, and a slow one must end. It also
// reports
// that the stream must end: behind is how many events the ring overtook (the stream fell too far
// behind), ended that the reader failed. When there is nothing new, wait is closed at the next
// append.
func (h *hub) next(c *cursor, app string, slow bool, out []*event) (evs []*event, wait <-chan struct{}, frames int, missed uint64, ended bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.epoch != h.epoch {
		return out, nil, 0, 0, true
	}
	if oldest := h.pos - min(h.pos, hubRing); c.pos < oldest {
		if app == "" || h.lost(app, c.pos, oldest) {
			missed = oldest - c.pos
			if slow {
				return out, nil, 0, missed, false
			}
		}
		c.pos = oldest // none of the entries the ring dropped was of its app, or it keeps up
	}
	for ; c.pos < h.pos; c.pos++ {
		out = append(out, h.ring[c.pos%hubRing])
	}
	return out, h.wake(app), frameCap(h.subs), missed, false
}

// lost reports whether an event of app at a position from since was dropped from the ring
// (before oldest): it walks back through the app's events still in the ring.
func (h *hub) lost(app string, since, oldest uint64) bool {
	for p := h.last[app]; p > since; {
		pos := p - 1
		if pos < oldest {
			return true
		}
		p = h.ring[pos%hubRing].prev
	}
	return false
}

// publish appends events and wakes the streams they concern.
func (h *hub) publish(evs []*event) {
	h.mu.Lock()
	for _, ev := range evs {
		ev.prev = h.last[ev.e.App]
		h.ring[h.pos%hubRing] = ev
		h.pos++
		h.last[ev.e.App] = h.pos
		if ch := h.wakes[ev.e.App]; ch != nil {
			close(ch)
			delete(h.wakes, ev.e.App)
		}
	}
	if ch := h.wakes[""]; ch != nil {
		close(ch)
		delete(h.wakes, "")
	}
	h.mu.Unlock()
}

func (h *hub) run(ctx context.Context, done chan struct{}, cursor uint64, err error) {
	defer close(done)
	st := h.in.store
	var evs []*event
	for err == nil {
		var es []store.Entry
		es, err = st.Feed(ctx, cursor, 256)
		evs = evs[:0]
		for i := range es {
			cursor = es[i].Seq
			evs = append(evs, h.in.encode(&es[i]))
		}
		if len(evs) > 0 {
			h.publish(evs)
		}
	}
	if ctx.Err() == nil {
		h.in.core.Logger().Warn("inbox: live feed", "err", err)
		h.mu.Lock()
		h.epoch++ // the streams end; browsers reconnect
		h.wakeAll()
		h.stop = nil
		h.mu.Unlock()
	}
}
