package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run this binary as the "smartappmock" command in scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"smartappmock": main,
	})
}

// TestScripts runs the CLI scripts in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// Scripts must not inherit a developer's settings.
			for _, k := range []string{"SMARTAPPMOCK_ADDR", "SMARTAPPMOCK_CONFIG", "SMARTAPPMOCK_ADMIN_TOKEN", "SMARTAPPMOCK_LOG_FORMAT"} {
				env.Setenv(k, "")
			}
			return nil
		},
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") == "1",
	})
}
