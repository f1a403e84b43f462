package mockserver_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: the delivery loop (StartDelivery) and
// the deliveries it starts end with Stop.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
