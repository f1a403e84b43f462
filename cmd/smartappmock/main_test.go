package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smartappmock/smartappmock/internal/testenv"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/mockserver/sandbox"
)

// TestMain lets testscript run this binary as the "smartappmock" command in scripts.
func TestMain(m *testing.M) {
	testscript.Main(testenv.Reporting(m), map[string]func(){
		"smartappmock": main,
	})
}

// TestScripts runs the CLI scripts in testdata/script. Besides testscript's own commands they have:
//
//	exits N command [args...]   exec, wanting exit status N exactly
//	busyport VAR                holds a loopback port for the script and puts its host:port in $VAR
//	fake VAR [admin-token]      starts an in-process fake on loopback: its URL in $VAR, host:port in $VAR_ADDR
//	get URL                     GET URL: the status line, then the body, on stdout
//	call METHOD URL [BODY]      any request: the status line, then the body, on stdout
//	pushbot VAR TOKEN [KEY ID]  a bot that verifies (and decrypts) pushes: its URL in $VAR
//	fakeconfig VAR FILE         fake with the configuration in FILE ($VARs expanded)
//	platformbot VAR TOKEN KEY ID  a platform's receiver that verifies and decrypts: its URL in $VAR
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// Scripts must not inherit a developer's settings.
			for _, k := range []string{"SMARTAPPMOCK_ADDR", "SMARTAPPMOCK_CONFIG", "SMARTAPPMOCK_ADMIN_TOKEN", "SMARTAPPMOCK_LOG_FORMAT",
				"SMARTAPPMOCK_LOG_LEVEL", "SMARTAPPMOCK_JOURNAL_FILE", "SMARTAPPMOCK_TLS", "SMARTAPPMOCK_TLS_ADDR",
				"SMARTAPPMOCK_CA_CERT", "SMARTAPPMOCK_CA_KEY", "SMARTAPPMOCK_WRITE_CA", "SMARTAPPMOCK_STORE"} {
				env.Setenv(k, "")
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":       cmdExits,
			"busyport":    cmdBusyPort,
			"fake":        cmdFake,
			"get":         cmdGet,
			"call":        cmdCall,        // pushbot_test.go
			"pushbot":     cmdPushBot,     // pushbot_test.go
			"fakeconfig":  cmdFakeConfig,  // pushbot_test.go
			"platformbot": cmdPlatformBot, // pushbot_test.go
		},
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") == "1",
	})
}

func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %q is not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

func cmdBusyPort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: busyport VAR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	ts.Defer(func() { ln.Close() })
	ts.Setenv(args[0], ln.Addr().String())
}

func cmdFake(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: fake VAR [admin-token]")
	}
	opts := admin.Options{}
	if len(args) == 2 {
		opts.Token = args[1]
	}
	srv, err := sandbox.New(mockserver.Options{}, opts)
	ts.Check(err)
	hs := httptest.NewServer(srv)
	ts.Defer(hs.Close)
	ts.Setenv(args[0], hs.URL)
	ts.Setenv(args[0]+"_ADDR", hs.Listener.Addr().String())
}

func cmdGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: get URL")
	}
	resp, err := http.Get(args[0])
	ts.Check(err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%s\n%s", resp.Status, body)
}

func TestGCPercentFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		live uint64
		want int
	}{
		{"Unknown_Default", 0, gcPercent},
		{"TinyHeap_CappedAtStart", 1 << 20, startGCPercent},
		{"SmallHeap_CappedAtStart", 2 << 20, startGCPercent},
		{"SmallHeap_GrowsToTheFloor", 3 << 20, 233},
		{"MidHeap_GrowsToTheFloor", 4 << 20, 150},
		{"NearTheFloor_Default", 6 << 20, gcPercent},
		{"LargeHeap_Default", 64 << 20, gcPercent},
		{"AtTheFloor_Default", minHeapGoal, gcPercent},
	} {
		if got := gcPercentFor(tc.live); got != tc.want {
			t.Errorf("%s: gcPercentFor(%d) = %d, want %d", tc.name, tc.live, got, tc.want)
		}
	}
}

// TestGCPercentFor_HeapGoalReachesTheFloor: whatever is live, the heap goal that gcPercentFor's
// GOGC gives (the runtime's: the larger of its floor and the live heap grown by GOGC) is about
// minHeapGoal or more, and no more than 1.75 times the live heap once that is above the floor.
func TestGCPercentFor_HeapGoalReachesTheFloor(t *testing.T) {
	t.Parallel()
	for live := uint64(64 << 10); live <= 32<<20; live += 64 << 10 {
		g := uint64(gcPercentFor(live))
		goal := max(runtimeHeapMinimum*g/100, live+live*g/100)
		if goal < minHeapGoal*99/100 {
			t.Errorf("live %d KiB: GOGC %d, heap goal %d KiB, under the floor %d KiB", live>>10, g, goal>>10, minHeapGoal>>10)
		}
		if grown := live + live*gcPercent/100; grown > minHeapGoal && goal != grown {
			t.Errorf("live %d KiB: GOGC %d, heap goal %d KiB, want %d KiB (GOGC %d)", live>>10, g, goal>>10, grown>>10, gcPercent)
		}
	}
}
