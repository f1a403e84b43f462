package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/smartappmock/smartappmock/contract/webhook"
)

const webhookUsage = `usage:
  smartappmock contract webhook [--junit FILE] [--case NAME,...] [--strict] [--verbose] -- <command that starts the bot…>
      start the bot, push users' messages to it through an in-process fake, judge what it did;
      exit 0 when every must-case passes, 1 otherwise
  smartappmock contract webhook --platform [--junit FILE] [--case NAME,...] -- <command…>
      the same for a third-party platform's receiver: the fake pushes tickets and authorization
      events to the bot's /platform path; the bot also gets SMARTAPPMOCK_TP_KEY,
      SMARTAPPMOCK_TP_PUSH_TOKEN and SMARTAPPMOCK_TP_AES_KEY
  smartappmock contract webhook --list
      print the webhook cases (the platform's with --platform)

The bot is started once with, in its environment: SMARTAPPMOCK_BOT_PORT (listen on 127.0.0.1 at
that port), SMARTAPPMOCK_PUSH_TOKEN, SMARTAPPMOCK_PUSH_AES_KEY, SMARTAPPMOCK_PUSH_CLIENT_ID,
SMARTAPPMOCK_BASE_URL (the fake: reply with POST {base}/rest/2.0/smartapp/message/custom/send) and
SMARTAPPMOCK_ACCESS_TOKEN. It is stopped (its process group) when the cases are done.
`

// contractWebhook is `smartappmock contract webhook …`.
func contractWebhook(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("contract webhook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, webhookUsage); fs.PrintDefaults() }
	junit := fs.String("junit", "", "write a JUnit XML report to this file")
	cases := fs.String("case", "", "comma-separated case names to run (default: all; see --list)")
	strict, verbose, list, platform := false, false, false, false
	fs.Var(boolValue{&platform}, "platform", "run the third-party platform's cases: the bot receives tickets and authorization events")
	fs.Var(boolValue{&strict}, "strict", "fail (exit 1) on should-cases too")
	fs.Var(boolValue{&verbose}, "verbose", "copy the bot's output to stderr")
	fs.Var(boolValue{&list}, "list", "print the cases and exit")
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return err
	}
	if list {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		cs := webhook.Cases()
		if platform {
			cs = webhook.PlatformCases()
		}
		for _, c := range cs {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Grade, c.Name, c.Doc)
		}
		return tw.Flush()
	}
	argv := fs.Args()
	if len(argv) == 0 {
		fmt.Fprint(stderr, webhookUsage)
		return usageError{"contract webhook: no bot command (put it after --)"}
	}
	s := webhook.Suite{Progress: progressTo(stderr), Platform: platform}
	if verbose {
		s.Output = stderr
	}
	if *cases != "" {
		s.Cases = strings.Split(*cases, ",")
	}
	rep, err := s.RunCommand(ctx, argv)
	if err != nil {
		if strings.HasPrefix(err.Error(), "unknown webhook") {
			return usageError{"contract webhook: " + err.Error()}
		}
		return fmt.Errorf("contract webhook: %w", err)
	}
	return finishReport(rep, *junit, strict, stdout)
}
