package sandbox_test

import (
	"os"
	"testing"

	"github.com/smartappmock/smartappmock/internal/testenv"
)

// TestMain names, after the tests, the programs whose absence skipped some (Chromium:
// testenv.Report).
func TestMain(m *testing.M) { os.Exit(testenv.Reporting(m).Run()) }
