package memstore_test

import (
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
	"github.com/smartappmock/smartappmock/store/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, 10, func(*testing.T) store.Store { return memstore.New(10) })
}

// TestMemory_WindowOpenIDIsACopy: the open_id a window keeps is the store's own copy, never a piece
// of the caller's string: a short open_id cut from a 1 MiB request body must not keep the body
// alive (10,000 windows per app would hold 10 GB).
func TestMemoryRecordsBound(t *testing.T) {
	storetest.RunRecordsBound(t, 3, func(*testing.T) store.Store {
		return memstore.NewWithLimits(10, memstore.Limits{MaxRecordsPerApp: 3})
	})
}

func TestMemory_WindowOpenIDIsACopy(t *testing.T) {
	t.Parallel()
	body := "open_id=u1&open_id=u2&content=" + strings.Repeat("x", 1<<20)
	inBody := func(s string) bool {
		p, base := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(body)))
		return p >= base && p < base+uintptr(len(body))
	}
	m := memstore.New(10)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := m.TakeReply(t.Context(), "1001", body[8:10], now, store.WindowRule{Duration: time.Hour, MaxReplies: 5, OpenOnFirst: true}); err != nil {
		t.Fatal(err)
	}
	if err := m.OpenWindow(t.Context(), "1001", body[19:21], now); err != nil {
		t.Fatal(err)
	}
	ws, err := m.Windows(t.Context(), "1001")
	if err != nil || len(ws) != 2 {
		t.Fatalf("Windows() = %v, %v; want 2 windows", ws, err)
	}
	for _, w := range ws {
		if inBody(w.OpenID) {
			t.Errorf("window %q points into the caller's body", w.OpenID)
		}
	}
}

// TestMemory_JournalIsACopy: the journal and the feed hold the store's own copy of an entry, never
// a piece of the caller's strings (a send's values are pieces of its request body, which the API
// core reuses), and what a reader changes in what it got back does not change the journal.
func TestMemory_JournalIsACopy(t *testing.T) {
	t.Parallel()
	body := "open_id=u1&msg_type=text&content=" + strings.Repeat("x", 1<<20)
	inBody := func(s string) bool {
		p, base := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(body)))
		return s != "" && p >= base && p < base+uintptr(len(body))
	}
	m := memstore.New(10)
	e := store.Entry{App: "1001", Endpoint: "send", OpenID: body[8:10], MsgType: body[20:24], Reason: body[11:19],
		Params: []store.Param{{Name: body[0:7], Value: body[8:10], Source: "body", Used: true}}}
	if _, err := m.Append(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	journal, err := m.Journal(t.Context(), store.Query{App: "1001"})
	if err != nil || len(journal) != 1 {
		t.Fatalf("Journal() = %v, %v; want 1 entry", journal, err)
	}
	feed, err := m.Feed(t.Context(), 0, 10)
	if err != nil || len(feed) != 1 {
		t.Fatalf("Feed() = %v, %v; want 1 entry", feed, err)
	}
	for name, got := range map[string]store.Entry{"journal": journal[0], "feed": feed[0]} {
		for _, s := range []string{got.OpenID, got.MsgType, got.Reason, got.Params[0].Name, got.Params[0].Value} {
			if inBody(s) {
				t.Errorf("%s: %q points into the caller's body", name, s)
			}
		}
		if got.OpenID != "u1" || got.MsgType != "text" || got.Params[0].Name != "open_id" {
			t.Errorf("%s: entry %+v, want open_id u1, msg_type text, parameter open_id", name, got)
		}
	}
	journal[0].Params[0].Value = "changed"
	again, err := m.Journal(t.Context(), store.Query{App: "1001"})
	if err != nil || len(again) != 1 || again[0].Params[0].Value != "u1" {
		t.Fatalf("after a reader changed its copy, Journal() = %+v, %v; want the parameter u1", again, err)
	}
}
