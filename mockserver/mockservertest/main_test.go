package mockservertest_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a server, proxy tunnel or transport goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
