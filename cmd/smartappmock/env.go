package main

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/smartappmock/smartappmock/internal/nearest"
)

// envPrefix starts the name of every environment variable the program reads.
const envPrefix = "SMARTAPPMOCK_"

// otherEnv are the SMARTAPPMOCK_ variables that are not serve settings: the ones `contract webhook`
// gives a bot, and the ones the tests and CI read. They are known, so never warned about.
var otherEnv = []string{
	"SMARTAPPMOCK_BOT_PORT", "SMARTAPPMOCK_PUSH_TOKEN", "SMARTAPPMOCK_PUSH_AES_KEY", "SMARTAPPMOCK_PUSH_CLIENT_ID",
	"SMARTAPPMOCK_BASE_URL", "SMARTAPPMOCK_ACCESS_TOKEN",
	"SMARTAPPMOCK_TP_KEY", "SMARTAPPMOCK_TP_PUSH_TOKEN", "SMARTAPPMOCK_TP_AES_KEY", // the platform cases
	"SMARTAPPMOCK_CHROMIUM", "SMARTAPPMOCK_UPDATE_SCREENSHOT", "SMARTAPPMOCK_TEST_REDIS", "SMARTAPPMOCK_DEFAULT_TRANSPORT_SWAPPED",
	"SMARTAPPMOCK_CI_RUN_DIR", // .ci/run's scratch folder, in the environment of everything CI starts
	// The compose files' image and host port, the testcontainers module's image, and the README
	// tour's target: exported in a shell that then runs smartappmock too.
	"SMARTAPPMOCK_IMAGE", "SMARTAPPMOCK_PORT", "SMARTAPPMOCK_TOUR_TARGET",
}

// envInHelp finds "env SMARTAPPMOCK_X" in serve's help.
var envInHelp = regexp.MustCompile(`env (SMARTAPPMOCK_[A-Z0-9_]+)`)

// knownEnv lists every SMARTAPPMOCK_ variable the program reads: the ones serve's flags name in
// their help (so a new flag's variable is known as soon as its help says so; healthcheck, ca and
// contract read a subset of them), and otherEnv.
func knownEnv() []string {
	var help bytes.Buffer
	_, _ = parseServeFlags("serve", []string{"-h"}, func(string) string { return "" }, &help)
	known := slices.Clone(otherEnv)
	for _, m := range envInHelp.FindAllStringSubmatch(help.String(), -1) {
		known = append(known, m[1])
	}
	slices.Sort(known)
	return slices.Compact(known)
}

// warnUnknownEnv writes one line to w for each set SMARTAPPMOCK_ variable in environ ("K=V") that
// the program does not read, with the nearest name it does read: a misspelled setting would
// otherwise be ignored without a word. It is a warning, not an error: a variable meant for another
// version of the program must not stop this one.
func warnUnknownEnv(environ []string, w io.Writer) {
	var known []string
	environ = slices.Sorted(slices.Values(environ))
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, envPrefix) || v == "" {
			continue
		}
		if known == nil {
			known = knownEnv()
		}
		if slices.Contains(known, k) {
			continue
		}
		hint := "run 'smartappmock serve -h' for the variables"
		if s := nearest.Word(k, known); s != "" {
			hint = "did you mean " + s + "?"
		}
		fmt.Fprintf(w, "smartappmock: warning: %s is not a setting of smartappmock, ignored (%s)\n", k, hint)
	}
}
