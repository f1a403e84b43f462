package mockserver

import (
	"testing"

	"github.com/smartappmock/smartappmock/store"
)

func TestOnlyWarning_SharedReadOnly(t *testing.T) {
	a, b := store.Warning{Kind: "a", Message: "A"}, store.Warning{Kind: "b", Message: "B"}
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
