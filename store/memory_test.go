package store_test

import (
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, 10, func(*testing.T) store.Store { return store.NewMemory(10) })
}

// TestMemory_WindowOpenIDIsACopy: the open_id a window keeps is the store's own copy, never a piece
// of the caller's string: a short open_id cut from a 1 MiB request body must not keep the body
// alive (10,000 windows per app would hold 10 GB).
func TestMemory_WindowOpenIDIsACopy(t *testing.T) {
	t.Parallel()
	body := "open_id=u1&open_id=u2&content=" + strings.Repeat("x", 1<<20)
	inBody := func(s string) bool {
		p, base := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(body)))
		return p >= base && p < base+uintptr(len(body))
	}
	m := store.NewMemory(10)
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
