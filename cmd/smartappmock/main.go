// Command smartappmock runs the fake Baidu Smart Mini Program customer-service message API and its
// contract-testing kit.
//
//	smartappmock [serve] [flags]              run the fake ('serve -h' lists the flags)
//	smartappmock config check FILE            check a configuration file
//	smartappmock config default               print the embedded default configuration
//	smartappmock healthcheck [--addr 127.0.0.1:8080]   ask a running fake whether it is healthy
//	smartappmock ca [new]                     print a running fake's CA, or create a CA pair
//	smartappmock contract run|verify|list     test a client, or a server, against openapi.yaml
//	smartappmock contract webhook             test a bot that receives Baidu's message push
//	smartappmock push text|image|event …      have a running fake push to an app's bot (push.go)
//	smartappmock version
//
// Every serve flag can also be set by an environment variable named SMARTAPPMOCK_ and the flag's
// name in capitals with '-' as '_' (SMARTAPPMOCK_ADDR, SMARTAPPMOCK_TLS_ADDR, …); a flag wins.
// Settings are strict (flags.go): booleans are 1/true/yes/on or 0/false/no/off, durations carry
// their unit, addresses their host; anything else is a usage error (exit 2) naming the flag or the
// variable. serve listens on 127.0.0.1:8080 unless told otherwise.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"syscall"
)

// version is stamped at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

// The collector's setting when the environment sets no GOGC (tuneGC).
const (
	// minHeapGoal is the least heap a collection waits for. The bench's loads keep about 2 MB
	// live: they allocate about 8 MB between collections instead of 1.5 with GOGC=75
	// (docs/operations.md, Garbage collection).
	minHeapGoal = 10 << 20
	// runtimeHeapMinimum is the Go runtime's own floor for GOGC=100: with GOGC=g no collection
	// comes before the heap reaches runtimeHeapMinimum*g/100, whatever is live.
	runtimeHeapMinimum = 4 << 20
	// startGCPercent is the GOGC whose runtime floor is minHeapGoal (250): the setting until the
	// first collection (start-up allocates about 3 MB, 2 of them at init, kin-openapi's
	// JSON-schema package; with Go's default the first collection came with the first answer,
	// or before it), and the most gcPercentFor gives.
	startGCPercent = minHeapGoal * 100 / runtimeHeapMinimum
	// gcPercent lets the heap grow to 1.75 times what is live before a collection, not twice,
	// once 1.75 times the live heap is more than minHeapGoal.
	gcPercent = 75
)

// tuneGC sets GOGC when the environment sets none: startGCPercent until the first collection has
// run; after each collection, gcPercent or, when that is more, what lets the heap reach
// minHeapGoal (gcPercentFor).
func tuneGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(startGCPercent)
	retuneAfterGC()
}

// retuneAfterGC sets GOGC for the live heap after the next collection, and again after each one
// that follows. The next collection finds the object unreachable and then runs the cleanup. (It
// holds pointers so that it is never a tiny allocation, which could share a block and outlive it.)
func retuneAfterGC() {
	runtime.AddCleanup(new([2]*byte), func(int) {
		live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(live)
		var n uint64
		if live[0].Value.Kind() == metrics.KindUint64 {
			n = live[0].Value.Uint64()
		}
		debug.SetGCPercent(gcPercentFor(n))
		retuneAfterGC()
	}, 0)
}

// gcPercentFor is the GOGC for a live heap of live bytes: gcPercent, or more while the heap that
// gcPercent allows stays under minHeapGoal. It is at most startGCPercent, whose runtime floor is
// minHeapGoal: a smaller live heap is collected at minHeapGoal too.
func gcPercentFor(live uint64) int {
	if live == 0 || live >= minHeapGoal {
		return gcPercent
	}
	return max(gcPercent, min(startGCPercent, int(minHeapGoal*100/live)-100))
}

func main() {
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal starts a graceful shutdown; stopping the relay then gives the signals their
	// default action back, so a second one ends the process at once.
	go func() { <-ctx.Done(); stop() }()
	warnUnknownEnv(os.Environ(), os.Stderr) // env.go
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "smartappmock:", err)
			os.Exit(2)
		}
		if !errors.Is(err, errSilent) {
			fmt.Fprintln(os.Stderr, "smartappmock:", err)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// errSilent is a failure already reported on stderr.
var errSilent = errors.New("failed")

const usage = `usage:
  smartappmock [serve] [flags]     run the fake (default 127.0.0.1:8080, embedded default config)
  smartappmock config check FILE   check a configuration file
  smartappmock config default      print the embedded default configuration
  smartappmock healthcheck         ask a running fake whether it is healthy (exit 0 if so)
  smartappmock ca [new]            print a running fake's CA certificate, or create a CA pair
  smartappmock version             print the version
  smartappmock contract run        test a client (any language) against every outcome
  smartappmock contract verify     check a server (this fake, or Baidu) against the spec
  smartappmock contract list       print the client cases
  smartappmock contract webhook    test a bot that receives Baidu's message push
  smartappmock push                push a user's message or an event to an app's bot; --dry-run: curl
  smartappmock help                print this

Run 'smartappmock COMMAND -h' for a command's flags, 'smartappmock serve -h' for the serve flags
and their SMARTAPPMOCK_* variables.
`

// commands are the subcommands, for did-you-mean.
var commands = []string{"serve", "config", "contract", "ca", "healthcheck", "push", "version", "help"}

// run is the whole program, driven by tests with their own args, environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return serve(ctx, nil, getenv, stdout, stderr)
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "config":
		return configCmd(args[1:], stdout, stderr)
	case "contract":
		return contractCmd(ctx, args[1:], getenv, stdout, stderr)
	case "ca":
		return caCmd(ctx, args[1:], getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, args[1:], getenv, stdout, stderr)
	case "push":
		return pushCmd(ctx, args[1:], getenv, stdout, stderr)
	case "version":
		if len(args) > 1 {
			if isHelp(args[1]) {
				fmt.Fprintln(stdout, "usage: smartappmock version   print the version")
				return nil
			}
			return usageError{fmt.Sprintf("version: unexpected argument %q", args[1])}
		}
		fmt.Fprintln(stdout, "smartappmock", buildVersion())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	if len(args[0]) > 0 && args[0][0] == '-' {
		return serve(ctx, args, getenv, stdout, stderr)
	}
	if s := suggestCommand(args[0], commands...); s != "" {
		return usageError{fmt.Sprintf("unknown command %q%s", args[0], s)}
	}
	return usageError{fmt.Sprintf("unknown command %q (run 'smartappmock help' for the commands)", args[0])}
}
