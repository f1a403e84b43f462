package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/store"
)

// runReconcile checks the primitives that reconcile a send whose answer was lost: GiveBack of a
// reply counted for a request id, and AppendOnce.
func runReconcile(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rule := store.WindowRule{Duration: time.Hour, MaxReplies: 5, OpenOnFirst: true}

	t.Run("GiveBack_TheReplyOfTheRequestOnly", func(t *testing.T) {
		s := newStore(t)
		for _, id := range []string{"r1", "r2", "r3"} {
			if tk, err := s.TakeReply(store.WithRequest(ctx, id), "a", "u", t0, rule); err != nil || !tk.OK {
				t.Fatalf("TakeReply(%s) = %+v, %v", id, tk, err)
			}
		}
		var got []bool
		for _, id := range []string{"r2", "r2", "unknown"} {
			ok, err := s.GiveBack(ctx, "a", "u", id)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ok)
		}
		if diff := cmp.Diff([]bool{true, false, false}, got); diff != "" {
			t.Errorf("GiveBack r2, r2 again, an unknown id (-want +got):\n%s", diff)
		}
		ws, err := s.Windows(ctx, "a")
		if err != nil || len(ws) != 1 || ws[0].Replies != 2 {
			t.Errorf("window after one reply given back: %+v, %v; want 2 replies", ws, err)
		}
		if tk, err := s.TakeReply(ctx, "a", "u", t0, rule); err != nil || !tk.OK || tk.Window.Replies != 3 {
			t.Errorf("a take after the give-back: %+v, %v; want counted as the third", tk, err)
		}
	})
	t.Run("GiveBack_NotIntoAFreshWindow", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.TakeReply(store.WithRequest(ctx, "r1"), "a", "u", t0, rule); err != nil {
			t.Fatal(err)
		}
		if err := s.OpenWindow(ctx, "a", "u", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.GiveBack(ctx, "a", "u", "r1"); err != nil || ok {
			t.Errorf("GiveBack after the user wrote again = %v, %v; want false (the window is a new one)", ok, err)
		}
	})
	t.Run("AppendOnce_AppendsOnlyOnce", func(t *testing.T) {
		s := newStore(t)
		e := store.Entry{ID: "req-1", App: "a", Time: t0, Endpoint: "send", Code: 0}
		var got []bool
		for range 2 {
			_, ok, err := s.AppendOnce(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ok)
		}
		if _, err := s.Append(ctx, store.Entry{ID: "req-2", App: "a", Time: t0, Endpoint: "send"}); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.AppendOnce(ctx, e); ok {
			got = append(got, ok)
		}
		if diff := cmp.Diff([]bool{true, false}, got); diff != "" {
			t.Errorf("AppendOnce twice, then after another entry (-want +got):\n%s", diff)
		}
		es, err := s.Journal(ctx, store.Query{App: "a"})
		if err != nil || len(es) != 2 {
			t.Errorf("journal: %d entries, %v; want 2", len(es), err)
		}
	})
}

// runAppPage checks AppPage: apps in id order, a page at a time.
func runAppPage(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	t.Run("AppPage_InIDOrderAPageAtATime", func(t *testing.T) {
		s := newStore(t)
		for i := range 7 {
			if _, _, err := s.RegisterApp(ctx, store.App{ID: fmt.Sprintf("app-%d", 6-i)}); err != nil {
				t.Fatal(err)
			}
		}
		var pages [][]string
		after := ""
		for range 5 {
			page, err := s.AppPage(ctx, after, 3)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, a := range page {
				ids = append(ids, a.ID)
			}
			pages = append(pages, ids)
			if len(page) < 3 {
				break
			}
			after = page[len(page)-1].ID
		}
		want := [][]string{{"app-0", "app-1", "app-2"}, {"app-3", "app-4", "app-5"}, {"app-6"}}
		if diff := cmp.Diff(want, pages); diff != "" {
			t.Errorf("pages of 3 (-want +got):\n%s", diff)
		}
	})
}
