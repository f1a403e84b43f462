package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/smartappmock/smartappmock/store"
)

// runRecords checks the contract of the records primitives: PutRecord, Record, TakeRecord,
// Records, and what Seed, Reset and DeleteApp do to records.
func runRecords(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	rec := func(kind, id, data string) store.Record {
		return store.Record{Kind: kind, ID: id, Data: []byte(data)}
	}
	withApps := func(t *testing.T, ids ...string) store.Store {
		t.Helper()
		s := newStore(t)
		for _, id := range ids {
			if _, _, err := s.RegisterApp(ctx, store.App{ID: id, Source: "sandbox-client", Capability: true}); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	t.Run("Records_PutReplacesGetListsByKindAndApp", func(t *testing.T) {
		s := withApps(t, "a", "b")
		for _, p := range []struct {
			app string
			r   store.Record
		}{
			{"a", rec("user", "u2", "two")},
			{"a", rec("user", "u1", "one")},
			{"a", rec("user", "u3", "three")},
			{"a", rec("code", "c1", "code")},
			{"b", rec("user", "u1", "other app")},
			{store.NoApp, rec("open_id", "u1", "a")},
			{"a", rec("user", "u1", "one, replaced")},
		} {
			if err := s.PutRecord(ctx, p.app, p.r); err != nil {
				t.Fatalf("PutRecord(%q, %+v): %v", p.app, p.r, err)
			}
		}
		got, ok, err := s.Record(ctx, "a", "user", "u1")
		if err != nil || !ok || string(got.Data) != "one, replaced" {
			t.Errorf("Record(a, user, u1) = %+v, %v, %v; want the replaced record", got, ok, err)
		}
		if got, ok, _ := s.Record(ctx, "b", "user", "u1"); !ok || string(got.Data) != "other app" {
			t.Errorf("Record(b, user, u1) = %+v, %v; want app b's own", got, ok)
		}
		if got, ok, _ := s.Record(ctx, store.NoApp, "open_id", "u1"); !ok || string(got.Data) != "a" {
			t.Errorf("Record(NoApp, open_id, u1) = %+v, %v", got, ok)
		}
		if _, ok, _ := s.Record(ctx, "a", "user", "nobody"); ok {
			t.Error("Record of an id never put was found")
		}
		if _, ok, _ := s.Record(ctx, "unknown", "user", "u1"); ok {
			t.Error("Record of an app the store does not hold was found")
		}
		for _, tc := range []struct {
			name         string
			after        string
			limit        int
			wantIDs      []string
			wantFirstRec store.Record
		}{
			{"AllSortedByID", "", 0, []string{"u1", "u2", "u3"}, rec("user", "u1", "one, replaced")},
			{"FirstPage", "", 2, []string{"u1", "u2"}, rec("user", "u1", "one, replaced")},
			{"NextPage", "u2", 2, []string{"u3"}, rec("user", "u3", "three")},
			{"PastTheEnd", "u3", 2, nil, store.Record{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				list, err := s.Records(ctx, "a", "user", tc.after, tc.limit)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, r := range list {
					ids = append(ids, r.ID)
				}
				if diff := cmp.Diff(tc.wantIDs, ids, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("Records ids mismatch (-want +got):\n%s", diff)
				}
				if len(list) > 0 {
					if diff := cmp.Diff(tc.wantFirstRec, list[0]); diff != "" {
						t.Errorf("first record mismatch (-want +got):\n%s", diff)
					}
				}
			})
		}
	})
	t.Run("PutRecord_RefusesAnUnknownAppAndABadKey", func(t *testing.T) {
		s := withApps(t, "a")
		if err := s.PutRecord(ctx, "ghost", rec("user", "u", "x")); !errors.Is(err, store.ErrUnknownApp) {
			t.Errorf("PutRecord of an unknown app = %v; want ErrUnknownApp", err)
		}
		if _, ok, _ := s.App(ctx, "ghost"); ok {
			t.Error("PutRecord of an unknown app created it")
		}
		for _, r := range []store.Record{rec("User", "u", "x"), rec("user:x", "u", "x"), rec("", "u", "x"), rec("user", "", "x")} {
			if err := s.PutRecord(ctx, "a", r); err == nil {
				t.Errorf("PutRecord(%+v) = nil; want an error for the bad key", r)
			}
		}
	})
	t.Run("TakeRecord_ExactlyOneOfConcurrentTakesGetsIt", func(t *testing.T) {
		s := withApps(t, "a")
		const codes = 20
		for i := range codes {
			if err := s.PutRecord(ctx, "a", rec("code", fmt.Sprint(i), fmt.Sprint("data", i))); err != nil {
				t.Fatal(err)
			}
		}
		var got [codes]atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range codes {
					r, ok, err := s.TakeRecord(ctx, "a", "code", fmt.Sprint(i))
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						if string(r.Data) != fmt.Sprint("data", i) {
							t.Errorf("TakeRecord(%d) data %q", i, r.Data)
						}
						got[i].Add(1)
					}
				}
			}()
		}
		wg.Wait()
		for i := range codes {
			if n := got[i].Load(); n != 1 {
				t.Errorf("code %d was taken %d times; want exactly once", i, n)
			}
		}
		if list, _ := s.Records(ctx, "a", "code", "", 0); len(list) != 0 {
			t.Errorf("records left after every take: %+v", list)
		}
	})
	t.Run("AddRecord_ExactlyOneOfConcurrentAddsStores", func(t *testing.T) {
		s := withApps(t, "a")
		var added atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				ok, err := s.AddRecord(ctx, "a", rec("user", "u", fmt.Sprint("adder ", i)))
				if err != nil {
					t.Error(err)
				}
				if ok {
					added.Add(1)
				}
			})
		}
		wg.Wait()
		if n := added.Load(); n != 1 {
			t.Errorf("%d of 8 concurrent adds answered true; want exactly one", n)
		}
		r, ok, _ := s.Record(ctx, "a", "user", "u")
		if !ok {
			t.Fatal("no record after the adds")
		}
		if ok, err := s.AddRecord(ctx, "a", rec("user", "u", "later")); ok || err != nil {
			t.Errorf("AddRecord over a held record = %v, %v; want false, nil", ok, err)
		}
		if again, _, _ := s.Record(ctx, "a", "user", "u"); string(again.Data) != string(r.Data) {
			t.Errorf("AddRecord over a held record changed it: %q, was %q", again.Data, r.Data)
		}
		if _, err := s.AddRecord(ctx, "ghost", rec("user", "u", "x")); !errors.Is(err, store.ErrUnknownApp) {
			t.Errorf("AddRecord of an unknown app = %v; want ErrUnknownApp", err)
		}
	})
	t.Run("LookupWith_ReadsTheProbeInTheFoundApp", func(t *testing.T) {
		s := withApps(t, "a", "b")
		if err := s.PutToken(ctx, store.Token{Value: "tok-a", App: "a"}); err != nil {
			t.Fatal(err)
		}
		s.PutRecord(ctx, "a", rec("user", "alice", "x"))
		s.PutRecord(ctx, "b", rec("user", "bob", "x"))
		for _, tc := range []struct {
			name                 string
			token, fallback      string
			probe                store.RecordKey
			wantProbed, wantHeld bool
			wantApp              string
		}{
			{"TokensAppHoldsIt", "tok-a", "", store.RecordKey{Kind: "user", ID: "alice"}, true, true, "a"},
			{"TokensAppLacksIt", "tok-a", "", store.RecordKey{Kind: "user", ID: "bob"}, true, false, "a"},
			{"FallbackAppHoldsIt", "unknown-token", "b", store.RecordKey{Kind: "user", ID: "bob"}, true, true, "b"},
			{"NoAppNotProbed", "unknown-token", "", store.RecordKey{Kind: "user", ID: "alice"}, false, false, ""},
			{"EmptyProbeNotProbed", "tok-a", "", store.RecordKey{}, false, false, "a"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				lk, err := s.LookupWith(ctx, tc.token, tc.fallback, tc.probe)
				if err != nil {
					t.Fatal(err)
				}
				if lk.Probed != tc.wantProbed || lk.Held != tc.wantHeld || lk.App.ID != tc.wantApp {
					t.Errorf("LookupWith = probed %v, held %v, app %q; want %v, %v, %q", lk.Probed, lk.Held, lk.App.ID, tc.wantProbed, tc.wantHeld, tc.wantApp)
				}
			})
		}
		if lk, _ := s.Lookup(ctx, "tok-a", ""); lk.Probed || lk.Held {
			t.Errorf("Lookup probed a record: %+v", lk)
		}
	})
	t.Run("Records_SeededResetAndDeletedWithTheirApp", func(t *testing.T) {
		s := newStore(t)
		seed := store.Seed{
			Apps: []store.App{{ID: "a", Source: "config", Capability: true}},
			Records: []store.SeedRecord{
				{App: "a", Record: rec("user", "configured", "as configured")},
				{App: store.NoApp, Record: rec("open_id", "configured", "a")},
			},
		}
		if err := s.Seed(ctx, seed); err != nil {
			t.Fatal(err)
		}
		if err := s.PutRecord(ctx, "a", rec("user", "configured", "changed")); err != nil {
			t.Fatal(err)
		}
		if err := s.Seed(ctx, seed); err != nil {
			t.Fatal(err)
		}
		if r, _, _ := s.Record(ctx, "a", "user", "configured"); string(r.Data) != "changed" {
			t.Errorf("a second Seed replaced a record: %q; want the changed one kept", r.Data)
		}
		s.PutRecord(ctx, "a", rec("user", "made", "by a test"))
		s.PutRecord(ctx, store.NoApp, rec("open_id", "made", "a"))
		if err := s.Reset(ctx, "a", seed); err != nil {
			t.Fatal(err)
		}
		list, _ := s.Records(ctx, "a", "user", "", 0)
		if diff := cmp.Diff([]store.Record{rec("user", "configured", "as configured")}, list); diff != "" {
			t.Errorf("Reset of the app: records mismatch (-want +got):\n%s", diff)
		}
		if _, ok, _ := s.Record(ctx, store.NoApp, "open_id", "made"); !ok {
			t.Error("Reset of one app dropped a record of no app")
		}
		if err := s.Reset(ctx, "", seed); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.Record(ctx, store.NoApp, "open_id", "made"); ok {
			t.Error("Reset of every app kept a record of no app that was not seeded")
		}
		if _, ok, _ := s.Record(ctx, store.NoApp, "open_id", "configured"); !ok {
			t.Error("Reset of every app did not put the seeded record of no app back")
		}
		if _, _, err := s.RegisterApp(ctx, store.App{ID: "sb", Source: "sandbox-client", Capability: true}); err != nil {
			t.Fatal(err)
		}
		s.PutRecord(ctx, "sb", rec("user", "u", "x"))
		if err := s.DeleteApp(ctx, "sb"); err != nil {
			t.Fatal(err)
		}
		s.RegisterApp(ctx, store.App{ID: "sb", Source: "sandbox-client", Capability: true})
		if _, ok, _ := s.Record(ctx, "sb", "user", "u"); ok {
			t.Error("a deleted app's record came back with an app of the same id")
		}
	})
}

// RunRecordsBound checks that a store made with a bound of limit records per app refuses a new
// record past it with store.ErrRecordsFull, still replaces a record it holds, and takes new ones
// again once one was taken. newStore must return an empty store with that bound.
func RunRecordsBound(t *testing.T, limit int, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	if _, _, err := s.RegisterApp(ctx, store.App{ID: "a", Source: "sandbox-client", Capability: true}); err != nil {
		t.Fatal(err)
	}
	put := func(id string) error {
		return s.PutRecord(ctx, "a", store.Record{Kind: "user", ID: id, Data: []byte(id)})
	}
	for i := range limit {
		if err := put(fmt.Sprint("u", i)); err != nil {
			t.Fatalf("record %d of %d: %v", i+1, limit, err)
		}
	}
	if err := put("one-too-many"); !errors.Is(err, store.ErrRecordsFull) {
		t.Errorf("a new record past the bound = %v; want ErrRecordsFull", err)
	}
	if err := put("u0"); err != nil {
		t.Errorf("replacing a held record at the bound = %v; want it stored", err)
	}
	if _, ok, err := s.TakeRecord(ctx, "a", "user", "u0"); !ok || err != nil {
		t.Fatalf("TakeRecord = %v, %v", ok, err)
	}
	if err := put("one-too-many"); err != nil {
		t.Errorf("a new record after a take made room = %v; want it stored", err)
	}
}
