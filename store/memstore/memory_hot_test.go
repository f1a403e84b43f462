package memstore

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/store"
)

// TestMemory_HotTenantsForgetLeavers: a tenant that left the store (deleted, evicted, reset) is
// never found again through the hot slots: its app's state starts over.
func TestMemory_HotTenantsForgetLeavers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rule := store.WindowRule{Duration: time.Hour, MaxReplies: 100, OpenOnFirst: true}
	replies := func(m *Store, app string) int {
		t.Helper()
		d, err := m.TakeReply(ctx, app, "u", now, rule)
		if err != nil || !d.OK {
			t.Fatalf("TakeReply(%s) = %+v, %v", app, d, err)
		}
		return d.Window.Replies
	}
	register := func(m *Store, app string) {
		t.Helper()
		if _, _, err := m.RegisterApp(ctx, store.App{ID: app, Source: "sandbox-token", Capability: true}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("DeleteApp", func(t *testing.T) {
		t.Parallel()
		m := New(10)
		register(m, "a")
		replies(m, "a")
		if got := replies(m, "a"); got != 2 {
			t.Fatalf("second reply is %d, want 2", got)
		}
		if err := m.DeleteApp(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := m.App(ctx, "a"); ok {
			t.Error("the deleted app is still found")
		}
		if got := replies(m, "a"); got != 1 {
			t.Errorf("first reply after DeleteApp is %d, want 1", got)
		}
	})
	t.Run("Reset", func(t *testing.T) {
		t.Parallel()
		m := New(10)
		register(m, "a")
		replies(m, "a")
		if err := m.Reset(ctx, "", store.Seed{At: now}); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := m.App(ctx, "a"); ok {
			t.Error("the app is still found after Reset")
		}
		if got := replies(m, "a"); got != 1 {
			t.Errorf("first reply after Reset is %d, want 1", got)
		}
	})
	t.Run("Evicted", func(t *testing.T) {
		t.Parallel()
		m := NewWithLimits(10, Limits{MaxTenants: 8})
		register(m, "a")
		replies(m, "a")
		for i := range 16 { // "a" is the least recently used: evicted
			register(m, "b"+strconv.Itoa(i))
		}
		if _, ok, _ := m.App(ctx, "a"); ok {
			t.Error("the evicted app is still found")
		}
		if got := replies(m, "a"); got != 1 {
			t.Errorf("first reply after eviction is %d, want 1", got)
		}
	})
}
