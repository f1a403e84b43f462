package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind (a reply still in flight, a
// server not shut down).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
