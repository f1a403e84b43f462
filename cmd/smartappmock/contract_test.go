package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/mockserver/sandbox"
)

func runContract(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"contract"}, args...), func(string) string { return "" }, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func TestContract_UsageErrorsExit2(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"NoSubcommand", nil, "missing subcommand"},
		{"UnknownSubcommand", []string{"runn"}, `unknown subcommand "runn"`},
		{"RunWithoutCommand", []string{"run", "--junit", "x.xml"}, "no client command"},
		{"RunUnknownCase", []string{"run", "--case", "nope", "--", "true"}, `unknown case "nope"`},
		{"RunBadFlag", []string{"run", "--bogus", "--", "true"}, "contract run: unknown flag --bogus"},
		{"RunUnknownFamily", []string{"run", "--family", "sms", "--", "true"}, `--family: "sms" is not send or messages`},
		{"RunCaseOfTheOtherFamily", []string{"run", "--family", "messages", "--case", "text_delivered", "--", "true"}, `unknown case "text_delivered"`},
		{"ListUnknownFamily", []string{"list", "--family", "sms"}, "want --family send or --family messages"},
		{"VerifyWithoutTarget", []string{"verify"}, "--target URL is required"},
		{"VerifyHalfCredentials", []string{"verify", "--target", "http://127.0.0.1:1", "--client-id", "x"}, "both --client-id and --client-secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := runContract(t, tc.args...)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v (%T); want a usageError (exit 2)", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q; want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestContract_List(t *testing.T) {
	t.Parallel()
	out, _, err := runContract(t, "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"must    text_delivered", "should  token_reused", "fault_slow_answer"} {
		if !strings.Contains(out, want) {
			t.Errorf("list output lacks %q:\n%s", want, out)
		}
	}
}

func TestContract_ListMessagesFamily(t *testing.T) {
	t.Parallel()
	out, _, err := runContract(t, "list", "--family", "messages")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"must    fallback_subscribe_after_90001", "must    check_text_blocks_risky_reply", "should  no_sandbox_warnings"} {
		if !strings.Contains(out, want) {
			t.Errorf("list output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "text_delivered") {
		t.Errorf("the messages family lists a case of the send's:\n%s", out)
	}
}

// TestContract_RunGoExample_MessagesFamily: the example Go command, built, passes every case of
// the messages family run as a command (the environment variables of its consent and check).
func TestContract_RunGoExample_MessagesFamily(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example command")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "send")
	if out, err := exec.Command("go", "build", "-o", bin, "../../examples/go/send").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, _, err := runContract(t, "run", "--family", "messages", "--", bin)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "PASS: every must-case passed") || !strings.Contains(out, "fallback_subscribe_after_90001") {
		t.Errorf("report:\n%s", out)
	}
}

func TestContract_RunShellExample_PassesAndWritesJUnit(t *testing.T) {
	t.Parallel()
	needCurl(t)
	junit := filepath.Join(t.TempDir(), "report.xml")
	out, progress, err := runContract(t, "run", "--junit", junit, "--case", "text_delivered,errno_3001_fails_without_retry,fault_http_502,send_form_encoded",
		"--", "sh", "../../examples/shell/send.sh")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	// Each case is announced on stderr as it finishes, before the summary.
	for _, want := range []string{"[1/4] PASS must ", "[4/4] PASS ", "text_delivered", "fault_http_502"} {
		if !strings.Contains(progress, want) {
			t.Errorf("progress on stderr lacks %q:\n%s", want, progress)
		}
	}
	if !strings.Contains(out, "PASS: every must-case passed") {
		t.Errorf("summary lacks the verdict:\n%s", out)
	}
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(data, &suites); err != nil {
		t.Fatalf("JUnit file is not XML: %v\n%s", err, data)
	}
	if suites.Tests != 4 || suites.Failures != 0 {
		t.Errorf("JUnit tests=%d failures=%d; want 4 and 0\n%s", suites.Tests, suites.Failures, data)
	}
}

func TestContract_RunFlawedExample_Exit1(t *testing.T) {
	t.Parallel()
	needCurl(t)
	out, _, err := runContract(t, "run", "--case", "errno_90001_fails_without_retry", "--", "sh", "../../examples/flawed/http_200_is_success.sh")
	if !errors.Is(err, errSilent) {
		t.Fatalf("err = %v; want errSilent (exit 1, report already printed)", err)
	}
	if !strings.Contains(out, "FAIL: must-cases failed: errno_90001_fails_without_retry") || !strings.Contains(out, "(-want +got)") {
		t.Errorf("summary lacks the failure and its diff:\n%s", out)
	}
}

func TestContract_VerifyAgainstFake(t *testing.T) {
	t.Parallel()
	srv, err := sandbox.New(mockserver.Options{}, admin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	out, _, err := runContract(t, "verify", "--target", hs.URL)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	if !strings.Contains(out, "PASS  must    verify_send_valid") {
		t.Errorf("summary lacks the valid send:\n%s", out)
	}
	// The default sandbox answers every probe as Baidu documents, so --strict passes too.
	if out, _, err := runContract(t, "verify", "--strict", "--target", hs.URL); err != nil {
		t.Errorf("verify --strict against the default sandbox: %v\n%s", err, out)
	}
	// A fake that answers error_code 18 to every send keeps the envelopes valid (must passes) but
	// not Baidu's codes: --strict fails on those should-results.
	cfg, err := config.Parse("qps.yaml", []byte("version: 1\npolicy: {apps: sandbox, tokens: sandbox}\nrules:\n  - answer: {error_code: 18}\n"))
	if err != nil {
		t.Fatal(err)
	}
	limited, err := sandbox.New(mockserver.Options{Config: cfg}, admin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs2 := httptest.NewServer(limited)
	t.Cleanup(hs2.Close)
	if out, _, err := runContract(t, "verify", "--target", hs2.URL); err != nil {
		t.Errorf("verify against the limited fake: %v\n%s", err, out)
	}
	if _, _, err := runContract(t, "verify", "--strict", "--target", hs2.URL); !errors.Is(err, errSilent) {
		t.Errorf("verify --strict err = %v; want errSilent", err)
	}
}
