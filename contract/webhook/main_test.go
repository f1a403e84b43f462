package webhook_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a fake, a bot server, a bot process waiter or a push connection
// outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
