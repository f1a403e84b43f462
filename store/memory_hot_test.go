package store

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// TestMemory_HotTenantsForgetLeavers: a tenant that left the store (deleted, evicted, reset) is
// never found again through the hot slots: its app's state starts over.
func TestMemory_HotTenantsForgetLeavers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rule := WindowRule{Duration: time.Hour, MaxReplies: 100, OpenOnFirst: true}
	replies := func(m *Memory, app string) int {
		t.Helper()
		d, err := m.TakeReply(ctx, app, "u", now, rule)
		if err != nil || !d.OK {
			t.Fatalf("TakeReply(%s) = %+v, %v", app, d, err)
		}
		return d.Window.Replies
	}
	register := func(m *Memory, app string) {
		t.Helper()
		if _, _, err := m.RegisterApp(ctx, App{ID: app, Source: "sandbox-token", Capability: true}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("DeleteApp", func(t *testing.T) {
		t.Parallel()
		m := NewMemory(10)
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
		m := NewMemory(10)
		register(m, "a")
		replies(m, "a")
		if err := m.Reset(ctx, "", Seed{At: now}); err != nil {
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
		m := NewMemoryLimits(10, MemoryLimits{MaxTenants: 8})
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

func TestOnlyWarning_SharedReadOnly(t *testing.T) {
	a, b := Warning{Kind: "a", Message: "A"}, Warning{Kind: "b", Message: "B"}
	first := onlyWarning(a)
	if again := onlyWarning(a); &again[0] != &first[0] {
		t.Errorf("onlyWarning(a) twice: two slices, want one shared")
	}
	if other := onlyWarning(b); len(other) != 1 || other[0] != b {
		t.Errorf("onlyWarning(b) = %v, want [%v]", other, b)
	}
	grown := append(first, b)
	if first[0] != a || cap(first) != 1 || &grown[0] == &first[0] {
		t.Errorf("append to the shared slice wrote into it: first = %v", first)
	}
}
