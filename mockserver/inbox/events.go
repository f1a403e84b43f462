package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"cmp"

	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/store"
)

const (
	// inboxPing is how often an idle event stream sends a comment, so that proxies keep it open.
	inboxPing = 15 * time.Second
	// streamWriteTimeout is how long one write to an event stream may take: a tab that stopped
	// reading is dropped (its browser reconnects with Last-Event-ID and loses nothing).
	streamWriteTimeout = 10 * time.Second
	// subscriberBuffer is how many events a stream may lag behind before it is dropped.
	subscriberBuffer = 256
)

// event is one journal entry ready for every stream: the entry (for the stream's filters) and its
// SSE frame encoded once with "match" set and once without.
type event struct {
	e          store.Entry
	match, not []byte
}

// hub is the one reader of the store's live feed for all the inbox's event streams of this
// process: it encodes each entry once (not once per open tab) and fans it out. It runs while at
// least one stream is open.
type hub struct {
	in   *inbox
	mu   sync.Mutex
	subs map[chan *event]struct{}
	stop context.CancelFunc
	done chan struct{}
}

func (h *hub) init(in *inbox) { h.in, h.subs = in, map[chan *event]struct{}{} }

// subscribe registers a stream; events of entries recorded from now on arrive on the channel,
// which is closed when the stream falls too far behind. Call the returned function to leave.
func (h *hub) subscribe() (<-chan *event, func()) {
	ch := make(chan *event, subscriberBuffer)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	if h.stop == nil {
		// The reader starts at the head as it is now, before this stream reads its own head: an
		// entry recorded from here on reaches the stream, whichever goroutine runs first.
		from, err := h.in.store.Head(context.Background())
		ctx, stop := context.WithCancel(context.Background())
		h.stop, h.done = stop, make(chan struct{})
		go h.run(ctx, h.done, from, err)
	}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
		var done chan struct{}
		if len(h.subs) == 0 && h.stop != nil {
			h.stop()
			done, h.stop = h.done, nil
		}
		h.mu.Unlock()
		if done != nil {
			<-done
		}
	}
}

func (h *hub) run(ctx context.Context, done chan struct{}, cursor uint64, err error) {
	defer close(done)
	st := h.in.store
	for err == nil {
		var es []store.Entry
		es, err = st.Feed(ctx, cursor, 256)
		for i := range es {
			cursor = es[i].Seq
			ev := h.in.encode(&es[i])
			h.mu.Lock()
			for ch := range h.subs {
				select {
				case ch <- ev:
				default: // too far behind: drop it, its browser reconnects and reads the journal
					delete(h.subs, ch)
					close(ch)
				}
			}
			h.mu.Unlock()
		}
	}
	if ctx.Err() == nil {
		h.in.core.Logger().Warn("inbox: live feed", "err", err)
		h.mu.Lock()
		for ch := range h.subs { // the streams end; browsers reconnect
			delete(h.subs, ch)
			close(ch)
		}
		h.stop = nil
		h.mu.Unlock()
	}
}

// encode renders an entry's SSE frame, with and without the match mark.
func (in *inbox) encode(e *store.Entry) *event {
	ev := &event{e: *e}
	it := in.item(e)
	for _, m := range []bool{true, false} {
		it.Match = m
		b, err := json.Marshal(it)
		if err != nil {
			b = []byte(`{}`)
		}
		frame := fmt.Appendf(nil, "id: %d\nevent: entry\ndata: %s\n\n", e.Seq, b)
		if m {
			ev.match = frame
		} else {
			ev.not = frame
		}
	}
	return ev
}

// serveEvents streams new journal entries of the view's app as server-sent events ("entry"
// events, id = sequence number, match set for those that pass the view's filters). With an "after"
// parameter (or Last-Event-ID) it first sends the matching entries recorded after it, so that a
// page loses nothing between its first fetch and the stream, or across a reconnect. Entries come
// from the store's feed, so a stream shows what every server on the store recorded.
func (in *inbox) serveEvents(w http.ResponseWriter, r *http.Request) {
	q, v, err := parseInboxQuery(r, "after")
	if err != nil {
		admin.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	after := v.Get("after")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		after = id
	}
	var since uint64
	if after != "" {
		if since, err = strconv.ParseUint(after, 10, 64); err != nil {
			admin.WriteError(w, http.StatusBadRequest, fmt.Sprintf("after: %q is not a sequence number", after))
			return
		}
	}
	ctx := r.Context()
	// Subscribe first, then read the head: an entry is either in the backlog (up to head) or on
	// the channel (after it), never in neither.
	events, leave := in.hub.subscribe()
	defer leave()
	head, err := in.store.Head(ctx)
	var backlog []store.Entry
	if err == nil && after != "" && since < head {
		bf := q.filter()
		bf.After, bf.Before = since, head+1
		backlog, err = in.store.Journal(ctx, bf)
	}
	if err != nil {
		admin.StoreFailed(w, err)
		return
	}
	rc := http.NewResponseController(w)
	write := func(b []byte) error {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	// Registered before the first byte: a Shutdown that starts once the client has read it then
	// always ends the stream (registered later, the hook could miss a Shutdown already running).
	shutdown := in.shutdownSignal(r)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := write([]byte("retry: 2000\n: smartappmock inbox\n\n")); err != nil {
		return
	}
	f := q.filter()
	slices.SortFunc(backlog, func(a, b store.Entry) int { return cmp.Compare(a.Seq, b.Seq) })
	for i := range backlog {
		if q.App != "" && backlog[i].App != q.App {
			continue
		}
		ev := in.encode(&backlog[i])
		if err := write(ev.match); err != nil {
			return
		}
	}
	ping := time.NewTicker(inboxPing)
	defer ping.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-shutdown:
			return
		case <-ping.C:
			err = write([]byte(": ping\n\n"))
		case ev, ok := <-events:
			if !ok {
				return // fell behind: the browser reconnects with Last-Event-ID
			}
			if ev.e.Seq <= max(head, since) || (q.App != "" && ev.e.App != q.App) {
				continue
			}
			if f.Matches(&ev.e) {
				err = write(ev.match)
			} else {
				err = write(ev.not)
			}
		}
		if err != nil {
			return
		}
	}
}
