package baidupush

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/smartappmock/smartappmock/internal/testenv"
)

// TestMain fails the package when a test leaves a goroutine behind (an unclosed answer body, a
// server not closed).
func TestMain(m *testing.M) { goleak.VerifyTestMain(testenv.Reporting(m)) }
