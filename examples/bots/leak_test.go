package bots

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind (a bot's output not drained).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
