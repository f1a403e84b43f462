package inbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
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
)

// encode renders an entry's SSE frame, with and without the match mark: the JSON is encoded once,
// and the marked frame adds "match":true at its end.
func (in *inbox) encode(e *store.Entry) *event {
	ev := &event{e: *e}
	b, err := json.Marshal(in.item(e))
	if err != nil || len(b) < 2 {
		b = []byte(`{}`)
	}
	head := fmt.Appendf(nil, "id: %d\nevent: entry\ndata: ", e.Seq)
	ev.not = append(append(slices.Clip(head), b...), "\n\n"...)
	sep := ","
	if len(b) == 2 {
		sep = ""
	}
	ev.match = append(append(append(head, b[:len(b)-1]...), sep+`"match":true}`...), "\n\n"...)
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
	// Subscribe first, then read the head: an entry is either in the backlog (up to head) or in
	// the hub's ring after the cursor, never in neither.
	cur := in.hub.subscribe()
	defer in.hub.leave()
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
		_, err := w.Write(b)
		if err == nil {
			err = rc.Flush()
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			in.streamDropped(r, "a write did not go through in "+streamWriteTimeout.String())
		}
		return err
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
	var (
		evs      []*event
		buf      []byte
		ready    <-chan time.Time // the flush interval since the last write; nil: may write now
		lastRead = time.Now()     // when the stream last read the hub's ring
	)
	for {
		var (
			wait   <-chan struct{}
			frames int
			missed uint64
			ended  bool
		)
		if ready == nil {
			// Slow: its last write took so long that the ring may have moved on without it.
			slow := time.Since(lastRead) > streamSlow
			evs, wait, frames, missed, ended = in.hub.next(&cur, q.App, slow, evs[:0])
			lastRead = time.Now()
			switch {
			case ended:
				return // the feed failed: the browser reconnects with Last-Event-ID
			case slow && missed > 0:
				in.streamDropped(r, fmt.Sprintf("it fell %d entries behind", missed))
				return
			}
			if len(evs) > 0 || missed > 0 {
				// Something new: show it, then read the ring again only after the interval, so
				// that a stream wakes and writes a few times a second under any load.
				buf = buf[:0]
				if missed > 0 { // more came in one interval than the ring holds
					buf = fmt.Appendf(buf, "event: skipped\ndata: {\"skipped\":%d}\n\n", missed)
				}
				if buf = in.frames(buf, evs, q, f, max(head, since), frames); len(buf) > 0 {
					if err := write(buf); err != nil {
						return
					}
				}
				ready = time.After(streamFlushInterval)
				wait = nil
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-shutdown:
			return
		case <-ping.C:
			if err := write([]byte(": ping\n\n")); err != nil {
				return
			}
		case <-ready:
			ready = nil
		case <-wait:
		}
	}
}

// frames appends to buf the frames of the events a stream shows: those after seen of the view's
// app (every app when none), marked when they pass its filters. Beyond most it keeps the newest
// and says how many it left out in a "skipped" event before them.
func (in *inbox) frames(buf []byte, evs []*event, q inboxQuery, f store.Query, seen uint64, most int) []byte {
	n := 0
	for _, ev := range evs {
		if ev.e.Seq > seen && (q.App == "" || ev.e.App == q.App) {
			n++
		}
	}
	skip := max(n-most, 0)
	if skip > 0 {
		buf = fmt.Appendf(buf, "event: skipped\ndata: {\"skipped\":%d}\n\n", skip)
	}
	for _, ev := range evs {
		if ev.e.Seq <= seen || (q.App != "" && ev.e.App != q.App) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if f.Matches(&ev.e) {
			buf = append(buf, ev.match...)
		} else {
			buf = append(buf, ev.not...)
		}
	}
	return buf
}

// streamDropped logs and counts a stream that ends because its client does not read fast
// enough (why says how it showed).
func (in *inbox) streamDropped(r *http.Request, why string) {
	in.admin.StreamDropped()
	in.core.Logger().Warn("inbox: live stream dropped: its client does not read fast enough; the browser reconnects",
		"client", r.RemoteAddr, "why", why)
}
