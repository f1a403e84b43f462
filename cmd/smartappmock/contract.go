package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/smartappmock/smartappmock/contract"
	"github.com/smartappmock/smartappmock/contract/report"
	"github.com/smartappmock/smartappmock/contract/verify"
)

const contractUsage = `usage:
  smartappmock contract run [--junit FILE] [--target URL] [--case NAME,...] [--strict] [--endpoint send|sendbytp] [--family send|messages] -- <command…>
      run the client command through every case; exit 0 when every must-case passes, 1 otherwise
  smartappmock contract verify --target URL [--client-id ID --client-secret SECRET] [--open-id ID] [--no-send] [--junit FILE]
      check a server's answers against openapi.yaml with safe probes (the last one sends one real message)
  smartappmock contract list [--family send|messages]
      print the catalogue of cases
  smartappmock contract webhook [--junit FILE] -- <command that starts the bot…>
      test a bot that receives Baidu's message push ('contract webhook -h')

The command runs once per message with SMARTAPP_BASE_URL, SMARTAPP_CLIENT_ID, SMARTAPP_CLIENT_SECRET,
SMARTAPP_USER_TYPE, SMARTAPP_OPEN_ID, SMARTAPP_MSG_TYPE, SMARTAPP_CONTENT, SMARTAPP_PIC_URL,
SMARTAPP_TOKEN_CACHE, SMARTAPP_CASE, SMARTAPP_ENDPOINT and SMARTAPP_TIMEOUT (with --endpoint sendbytp also
SMARTAPP_TP_CLIENT_ID, SMARTAPP_TP_TICKET and SMARTAPP_AUTH_CODE; with --family messages SMARTAPP_TEMPLATE_ID,
SMARTAPP_SUBSCRIBE_ID and SMARTAPP_CHECK_TEXT where a case sets them) in its environment; exit status 0 means delivered; an optional
last line of JSON on stdout names the code it saw: {"errno":3001} or {"error_code":110}.
`

// contractCmd is `smartappmock contract …`.
func contractCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, contractUsage)
		return usageError{"contract: missing subcommand (run, verify or list)"}
	}
	switch args[0] {
	case "run":
		return contractRun(ctx, args[1:], getenv, stdout, stderr)
	case "webhook": // contract_webhook.go
		return contractWebhook(ctx, args[1:], stdout, stderr)
	case "verify":
		return contractVerify(ctx, args[1:], stdout, stderr)
	case "list":
		list := contract.Cases()
		if len(args) == 3 && args[1] == "--family" && args[2] == contract.FamilyMessages {
			list, args = contract.MessageCases(), args[:1]
		} else if len(args) == 3 && args[1] == "--family" && args[2] == contract.FamilySend {
			args = args[:1]
		}
		if len(args) > 1 {
			if isHelp(args[1]) {
				fmt.Fprintln(stdout, "usage: smartappmock contract list [--family send|messages]   print the client cases: grade, name, what each checks")
				return nil
			}
			return usageError{fmt.Sprintf("contract list: unexpected argument %q (want --family send or --family messages)", strings.Join(args[1:], " "))}
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		for _, c := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Grade, c.Name, c.Doc)
		}
		return tw.Flush()
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, contractUsage)
		return nil
	}
	if s := suggestCommand(args[0], "run", "verify", "list", "webhook"); s != "" {
		return usageError{fmt.Sprintf("contract: unknown subcommand %q%s", args[0], s)}
	}
	return usageError{fmt.Sprintf("contract: unknown subcommand %q (want run, verify, list or webhook)", args[0])}
}

func contractRun(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("contract run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, contractUsage); fs.PrintDefaults() }
	junit := fs.String("junit", "", "write a JUnit XML report to this file")
	target := fs.String("target", "", "base URL of an already running fake (default: start one in-process per case)")
	adminToken := fs.String("admin-token", getenv("SMARTAPPMOCK_ADMIN_TOKEN"), "bearer token of the target's admin API (env SMARTAPPMOCK_ADMIN_TOKEN)")
	cases := fs.String("case", "", "comma-separated case names to run (default: all; see 'contract list')")
	strict := false
	fs.Var(boolValue{&strict}, "strict", "fail (exit 1) on should-cases too")
	parallel := fs.Int("parallel", 4, "cases run at once")
	endpoint := fs.String("endpoint", contract.EndpointSend, "send (custom/send) or sendbytp (custom/sendbytp as a third-party platform)")
	family := fs.String("family", contract.FamilySend, "send (the customer-service send) or messages (past the window: the subscribe fallback; the text check before a reply)")
	slow, timeout := 10*time.Second, 30*time.Second
	fs.Var(durationValue{&slow}, "slow-hold", "how long the slow-answer fault holds an answer")
	fs.Var(durationValue{&timeout}, "send-timeout", "how long one message may take before the client is stopped")
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return err
	}
	argv := fs.Args()
	if len(argv) == 0 {
		fmt.Fprint(stderr, contractUsage)
		return usageError{"contract run: no client command (put it after --)"}
	}
	if *parallel < 1 {
		return usageError{"contract run: --parallel must be at least 1"}
	}
	if *endpoint != contract.EndpointSend && *endpoint != contract.EndpointSendByTP {
		return usageError{fmt.Sprintf("contract run: --endpoint: %q is not %s or %s", *endpoint, contract.EndpointSend, contract.EndpointSendByTP)}
	}
	if *target != "" {
		if err := checkTargetURL("contract run", *target); err != nil {
			return err
		}
	}
	if *family != contract.FamilySend && *family != contract.FamilyMessages {
		return usageError{fmt.Sprintf("contract run: --family: %q is not %s or %s", *family, contract.FamilySend, contract.FamilyMessages)}
	}
	s := contract.Suite{Target: *target, AdminToken: *adminToken, Strict: strict, Parallel: *parallel,
		SlowHold: slow, SendTimeout: timeout, Endpoint: *endpoint, Family: *family, Progress: progressTo(stderr)}
	if *cases != "" {
		s.Cases = strings.Split(*cases, ",")
	}
	rep, err := s.RunCommand(ctx, argv)
	if err != nil {
		if strings.HasPrefix(err.Error(), "unknown case") {
			return usageError{"contract run: " + err.Error()}
		}
		return fmt.Errorf("contract run: %w", err)
	}
	return finishReport(rep, *junit, strict, stdout)
}

func contractVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("contract verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, contractUsage); fs.PrintDefaults() }
	var o verify.Options
	fs.StringVar(&o.Target, "target", "", "base URL of the server to check (required), e.g. http://127.0.0.1:8080")
	fs.StringVar(&o.ClientID, "client-id", "", "App Key (default: made-up, which only a sandbox fake accepts)")
	fs.StringVar(&o.ClientSecret, "client-secret", "", "App Secret")
	fs.StringVar(&o.OpenID, "open-id", "", "user of the one valid send (default smartappmock-verify-user)")
	fs.Var(boolValue{&o.NoSend}, "no-send", "leave out the valid send (the only probe that can deliver a message)")
	junit := fs.String("junit", "", "write a JUnit XML report to this file")
	strict := false
	fs.Var(boolValue{&strict}, "strict", "fail (exit 1) on should-results (codes) too")
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("contract verify: unexpected argument %q", fs.Arg(0))}
	}
	if o.Target == "" {
		return usageError{"contract verify: --target URL is required"}
	}
	if err := checkTargetURL("contract verify", o.Target); err != nil {
		return err
	}
	if (o.ClientID == "") != (o.ClientSecret == "") {
		return usageError{"contract verify: give both --client-id and --client-secret, or neither"}
	}
	rep, err := verify.Run(ctx, o)
	if err != nil {
		return fmt.Errorf("contract verify: %w", err)
	}
	return finishReport(rep, *junit, strict, stdout)
}

// progressTo prints each finished case on w (stderr: stdout keeps the report alone), so a run of
// a minute is not silent until its summary.
func progressTo(w io.Writer) report.Progress {
	return func(res report.Result, done, total int) {
		fmt.Fprintln(w, "smartappmock contract:", report.ProgressLine(res, done, total))
	}
}

// checkTargetURL refuses a --target that is not an http(s) URL, with the fix.
func checkTargetURL(cmd, target string) error {
	u, err := url.Parse(target)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return nil
	}
	return usageError{fmt.Sprintf("%s: --target %q is not a URL (want http://%s)", cmd, target, strings.TrimPrefix(strings.TrimPrefix(target, "//"), "://"))}
}

// finishReport prints the summary, writes the JUnit file and turns a failed report into exit 1.
func finishReport(rep *report.Report, junit string, strict bool, stdout io.Writer) error {
	if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if junit != "" {
		f, err := os.Create(junit)
		if err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
		werr := rep.WriteJUnit(f)
		if err := errors.Join(werr, f.Close()); err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
	}
	if !rep.Passed() || (strict && len(rep.Failed(report.GradeShould)) > 0) {
		return errSilent
	}
	return nil
}
