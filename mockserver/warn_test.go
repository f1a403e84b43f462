package mockserver

import (
	"testing"

	"github.com/smartappmock/smartappmock/store"
)

// TestWarnKinds_SameAsTheStore pins the warning kinds and fault phases that Store.Send writes to
// those of this package.
func TestWarnKinds_SameAsTheStore(t *testing.T) {
	for _, tc := range []struct{ name, here, store string }{
		{"UnissuedToken", WarnUnissuedToken, store.WarnUnissuedToken},
		{"UnconfiguredClient", WarnUnconfiguredClient, store.WarnUnconfiguredClient},
		{"OpenOnFirstSend", WarnOpenOnFirstSend, store.WarnOpenOnFirstSend},
		{"Rule", WarnRule, store.WarnRule},
		{"PhaseBefore", PhaseBefore, store.PhaseBefore},
		{"PhaseAfter", PhaseAfter, store.PhaseAfter},
	} {
		if tc.here != tc.store {
			t.Errorf("%s: mockserver %q, store %q", tc.name, tc.here, tc.store)
		}
	}
}
