package bots

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/smartappmock/smartappmock/internal/testenv"
)

// TestMain fails the package when a test leaves a goroutine behind (a bot process waiter, the
// kit's fake).
func TestMain(m *testing.M) { goleak.VerifyTestMain(testenv.Reporting(m)) }
