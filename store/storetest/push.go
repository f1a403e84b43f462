package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/store"
)

// RunPush runs the conformance cases of store.Pusher: newStore must return an empty store that
// implements it.
func RunPush(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	pusher := func(t *testing.T) (store.Store, store.Pusher) {
		t.Helper()
		s := newStore(t)
		p, ok := s.(store.Pusher)
		if !ok {
			t.Fatalf("%T does not implement store.Pusher", s)
		}
		return s, p
	}
	t.Run("Push_PutGetDelete", func(t *testing.T) {
		_, p := pusher(t)
		if _, ok, err := p.Push(ctx, "a"); ok || err != nil {
			t.Fatalf("Push of a fresh store = ok %v, err %v; want none", ok, err)
		}
		for _, tc := range []struct {
			name    string
			put     []byte
			want    []byte
			wantOK  bool
			deleted bool
		}{
			{"Stored", []byte(`{"url":"http://x"}`), []byte(`{"url":"http://x"}`), true, false},
			{"Replaced", []byte(`{"url":"http://y"}`), []byte(`{"url":"http://y"}`), true, false},
			{"EmptyMeansOff", []byte{}, []byte{}, true, false},
			{"Deleted", nil, nil, false, true},
		} {
			if tc.deleted {
				if err := p.DeletePush(ctx, "a"); err != nil {
					t.Fatal(err)
				}
			} else if err := p.PutPush(ctx, "a", tc.put); err != nil {
				t.Fatal(err)
			}
			got, ok, err := p.Push(ctx, "a")
			if err != nil || ok != tc.wantOK || string(got) != string(tc.want) {
				t.Errorf("%s: Push = %q, %v, %v; want %q, %v", tc.name, got, ok, err, tc.want, tc.wantOK)
			}
		}
		if _, ok, _ := p.Push(ctx, "b"); ok {
			t.Error("app b has a push configuration it was never given")
		}
	})
	t.Run("Push_SurvivesReset", func(t *testing.T) {
		s, p := pusher(t)
		if err := p.PutPush(ctx, "a", []byte("cfg")); err != nil {
			t.Fatal(err)
		}
		first, _ := p.NextMsgID(ctx)
		if err := s.Reset(ctx, "", store.Seed{}); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := p.Push(ctx, "a"); !ok || err != nil || string(got) != "cfg" {
			t.Errorf("after Reset: Push = %q, %v, %v; want cfg kept", got, ok, err)
		}
		if next, _ := p.NextMsgID(ctx); next <= first {
			t.Errorf("after Reset: NextMsgID = %d, not above %d", next, first)
		}
	})
	t.Run("NextMsgID_UniqueUnderConcurrency", func(t *testing.T) {
		_, p := pusher(t)
		var mu sync.Mutex
		seen := map[uint64]bool{}
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				n, err := p.NextMsgID(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				seen[n] = true
				mu.Unlock()
			})
		}
		wg.Wait()
		want := map[uint64]bool{}
		for i := uint64(1); i <= 50; i++ {
			want[i] = true
		}
		if diff := cmp.Diff(want, seen); diff != "" {
			t.Errorf("NextMsgID values mismatch (-want +got):\n%s", diff)
		}
	})
}
