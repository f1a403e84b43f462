package examples

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/contract"
	"github.com/smartappmock/smartappmock/contract/report"
	"github.com/smartappmock/smartappmock/internal/testenv"
)

// TestMain names, after the tests, the programs whose absence skipped some (testenv.Report).
func TestMain(m *testing.M) { os.Exit(testenv.Reporting(m).Run()) }

// suite is the contract suite as the examples run it: the kit's default limits (a 10 s hold, so
// 5 s for the clients' answers, and 30 s per message), generous enough for a loaded machine; a
// flawed client that loops is stopped by the kit's attempt limit first.
func suite() contract.Suite {
	return contract.Suite{Parallel: 3}
}

// need skips the test (fails it under CI=true) when a program the example needs is missing: CI
// installs them (.ci/setup.d/20-contract.sh).
func need(t *testing.T, program string) {
	t.Helper()
	switch program {
	case "python3":
		testenv.Require(t, "python3", "apt-get install python3")
	case "node":
		testenv.RequireVersion(t, "node", "--version", 20, 0, "apt-get install nodejs, version 20 or later")
	case "sh":
		testenv.Require(t, "sh", "apt-get install dash")
		needCurl(t)
	default:
		testenv.Require(t, program, "see .ci/setup.d/20-contract.sh")
	}
}

// needCurl is what examples/shell/send.sh needs: curl 7.87 or later (for --url-query).
func needCurl(t *testing.T) {
	t.Helper()
	testenv.RequireVersion(t, "curl", "--version", 7, 87, "apt-get install curl, version 7.87 or later")
}

// buildGo builds a Go command of this module into a temporary directory.
func buildGo(t *testing.T, pkg string) string {
	t.Helper()
	testenv.SkipIfShort(t, "builds "+pkg+" with go build")
	bin := filepath.Join(t.TempDir(), "send")
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

func runCommand(t *testing.T, argv ...string) *report.Report {
	t.Helper()
	need(t, argv[0])
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	rep, err := suite().RunCommand(ctx, argv)
	if err != nil {
		t.Fatalf("RunCommand(%q): %v", argv, err)
	}
	t.Logf("%s: %d cases in %s", strings.Join(argv, " "), len(rep.Results), rep.Elapsed.Round(time.Millisecond))
	return rep
}

func summary(t *testing.T, rep *report.Report) string {
	t.Helper()
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestExampleClients_PassEveryCase runs the whole suite against each example client: every must-
// and should-case passes.
func TestExampleClients_PassEveryCase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		argv []string
	}{
		{"Python", []string{"python3", "python/send.py"}},
		{"Node", []string{"node", "node/send.mjs"}},
		{"Shell", []string{"sh", "shell/send.sh"}},
		{"GoCommand", []string{"go-build", "./go/send"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			argv := tc.argv
			if argv[0] == "go-build" {
				argv = []string{buildGo(t, argv[1])}
			}
			rep := runCommand(t, argv...)
			if failed := rep.Failed(""); len(failed) > 0 {
				t.Errorf("cases failed: %v\n%s", failed, summary(t, rep))
			}
			if len(rep.Results) != len(contract.Cases()) {
				t.Errorf("ran %d cases; want all %d", len(rep.Results), len(contract.Cases()))
			}
		})
	}
}

// TestFlawedClients_FailExactlyTheirCases shows that the kit catches real bugs: each deliberately
// flawed client fails exactly the cases its flaw breaks, and passes the others.
func TestFlawedClients_FailExactlyTheirCases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		argv []string
		want []string
	}{
		{
			name: "JSONBody",
			argv: []string{"python3", "flawed/json_body.py"},
			want: []string{
				"text_delivered", "image_delivered",
				"errno_30022_fails_without_retry", "errno_90001_fails_without_retry", "errno_90002_fails_without_retry",
				"window_sixth_send_90001",
				"token_reused", "token_110_refreshed_once", "token_111_refreshed_once",
				"requests_match_openapi", "send_form_encoded",
			},
		},
		{
			name: "RetryEverything",
			argv: []string{"python3", "flawed/retry_everything.py"},
			want: []string{
				"errno_3001_fails_without_retry", "errno_30022_fails_without_retry", "errno_90001_fails_without_retry", "errno_90002_fails_without_retry",
				"token_110_persistent_fails_bounded", "token_111_persistent_fails_bounded",
				"gateway_17_daily_limit_surfaced", "gateway_18_qps_limit_surfaced",
				"window_sixth_send_90001",
				"fault_http_502", "fault_http_503", "fault_dropped_connection", "fault_malformed_body", "fault_slow_answer",
				"lost_ack_not_resent", // retrying after the service delivered sends twice
				"token_reused",
			},
		},
		{
			name: "HTTP200IsSuccess",
			argv: []string{"sh", "flawed/http_200_is_success.sh"},
			want: []string{
				"errno_3001_fails_without_retry", "errno_30022_fails_without_retry", "errno_90001_fails_without_retry", "errno_90002_fails_without_retry",
				"token_110_persistent_fails_bounded", "token_111_persistent_fails_bounded",
				"gateway_17_daily_limit_surfaced", "gateway_18_qps_limit_surfaced",
				"window_sixth_send_90001",
				"fault_malformed_body",
				"token_reused", "token_110_refreshed_once", "token_111_refreshed_once",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := runCommand(t, tc.argv...)
			if diff := cmp.Diff(tc.want, rep.Failed("")); diff != "" {
				t.Errorf("failed cases mismatch (-want +got):\n%s\n%s", diff, summary(t, rep))
			}
			if rep.ExitCode() != 1 {
				t.Errorf("ExitCode() = %d; want 1 (a must-case failed)", rep.ExitCode())
			}
		})
	}
}
