package memstore

import (
	"testing"

	"github.com/smartappmock/smartappmock/store"

	"github.com/google/go-cmp/cmp"
)

// TestMemoryFeed_KeepsTheNewestBacklog: while the ring grows and once it wraps, Feed from the
// start returns the oldest entry still kept and then every later one, in order; a reader behind
// the backlog sees the gap.
func TestMemoryFeed_KeepsTheNewestBacklog(t *testing.T) {
	t.Parallel()
	m := New(10)
	seqs := func(after uint64, limit int) []uint64 {
		t.Helper()
		es, err := m.Feed(t.Context(), after, limit)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]uint64, len(es))
		for i, e := range es {
			out[i] = e.Seq
			if want := "id" + string(rune('a'+e.Seq%26)); e.ID != want {
				t.Errorf("entry %d has ID %q, want %q", e.Seq, e.ID, want)
			}
		}
		return out
	}
	appendN := func(n int) {
		t.Helper()
		for range n {
			head, _ := m.Head(t.Context())
			if _, err := m.Append(t.Context(), store.Entry{App: "1", ID: "id" + string(rune('a'+(head+1)%26))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendN(3)
	if diff := cmp.Diff([]uint64{1, 2, 3}, seqs(0, 10)); diff != "" {
		t.Errorf("growing: Feed(0) mismatch (-want +got):\n%s", diff)
	}
	appendN(feedBacklog - 3) // full, not yet wrapped
	if got := seqs(0, 2); !cmp.Equal(got, []uint64{1, 2}) {
		t.Errorf("full: Feed(0, 2) = %v, want [1 2]", got)
	}
	appendN(5) // wrapped: 1..5 are gone
	if got := seqs(0, 2); !cmp.Equal(got, []uint64{6, 7}) {
		t.Errorf("wrapped: Feed(0, 2) = %v, want [6 7]", got)
	}
	last := uint64(feedBacklog + 5)
	if got := seqs(last-2, 10); !cmp.Equal(got, []uint64{last - 1, last}) {
		t.Errorf("wrapped: Feed(%d) = %v, want [%d %d]", last-2, got, last-1, last)
	}
	if n := len(seqs(0, 2*feedBacklog)); n != feedBacklog {
		t.Errorf("wrapped: Feed(0) returned %d entries, want the backlog, %d", n, feedBacklog)
	}
}
