package sandbox

import (
	"testing"

	"github.com/smartappmock/smartappmock/internal/teststores"
	"github.com/smartappmock/smartappmock/mockserver"
)

// storeKind is one of the stores the fake's outcome tables run on (teststores).
type storeKind struct{ teststores.Kind }

// setup is the package's setup on this kind of store.
func (k storeKind) setup(t *testing.T, yamlConfig string) *fixture {
	t.Helper()
	return k.setupOpts(t, yamlConfig, nil)
}

// setupOpts is the package's setupOpts on this kind of store.
func (k storeKind) setupOpts(t *testing.T, yamlConfig string, change func(*mockserver.Options)) *fixture {
	t.Helper()
	return setupOpts(t, yamlConfig, func(o *mockserver.Options) {
		if o.Store == nil {
			o.Store = k.Open(t)
		}
		if change != nil {
			change(o)
		}
	})
}

// eachStore runs an outcome table on every kind of store (teststores.Each).
func eachStore(t *testing.T, run func(t *testing.T, k storeKind)) {
	t.Helper()
	teststores.Each(t, func(t *testing.T, k teststores.Kind) { run(t, storeKind{k}) })
}
