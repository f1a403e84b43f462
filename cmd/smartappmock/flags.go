package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/internal/nearest"
)

// Settings come from flags over environment variables over defaults, and every one is strict: a
// value that does not parse stops the program with the flag's or the variable's name.

// parseBool reads a boolean setting: 1, true, yes, on and 0, false, no, off (any case).
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (want 1, true, yes, on or 0, false, no, off)", s)
}

// boolValue is a strict boolean flag.
type boolValue struct{ p *bool }

func (b boolValue) IsBoolFlag() bool { return true }
func (b boolValue) String() string {
	if b.p == nil {
		return "false"
	}
	return strconv.FormatBool(*b.p)
}
func (b boolValue) Set(s string) error {
	v, err := parseBool(s)
	if err != nil {
		return err
	}
	*b.p = v
	return nil
}

// durationValue is a duration flag that wants its unit ("10s", not "10").
type durationValue struct{ p *time.Duration }

func (d durationValue) String() string {
	if d.p == nil {
		return "0s"
	}
	return d.p.String()
}
func (d durationValue) Set(s string) error {
	var v config.Duration
	if err := v.UnmarshalText([]byte(s)); err != nil {
		return err
	}
	*d.p = time.Duration(v)
	return nil
}

// envBool reads a boolean environment variable; empty means def.
func envBool(getenv func(string) string, key string, def bool) (bool, error) {
	s := getenv(key)
	if s == "" {
		return def, nil
	}
	v, err := parseBool(s)
	if err != nil {
		return def, usageError{fmt.Sprintf("%s: %v", key, err)}
	}
	return v, nil
}

var (
	undefinedFlagRE = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	badValueRE      = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-+([^:]+): (.*)$`)
	needsValueRE    = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
)

// parseFlags parses args with fs and turns the flag package's errors into usage errors a person
// can act on: an unknown flag gets the nearest known one, a bad value names the flag. It reports
// help when -h was asked for (the flags are then printed on stderr).
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (help bool, err error) {
	usage := fs.Usage
	var discard bytes.Buffer
	fs.SetOutput(&discard)
	fs.Usage = func() {}
	err = fs.Parse(args)
	fs.SetOutput(stderr)
	fs.Usage = usage
	if err == nil {
		return false, nil
	}
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
		return true, nil
	}
	return false, usageError{flagError(fs, err)}
}

// flagError rewrites an error of fs.Parse.
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	help := fmt.Sprintf("run 'smartappmock %s -h' for the flags", fs.Name())
	if m := undefinedFlagRE.FindStringSubmatch(msg); m != nil {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if s := nearest.Word(m[1], names); s != "" {
			return fmt.Sprintf("%s: unknown flag --%s (did you mean --%s?)", fs.Name(), m[1], s)
		}
		return fmt.Sprintf("%s: unknown flag --%s (%s)", fs.Name(), m[1], help)
	}
	if m := badValueRE.FindStringSubmatch(msg); m != nil {
		reason := m[3]
		if reason == "parse error" || reason == "value out of range" {
			reason = fmt.Sprintf("%q is not valid (%s)", m[1], reason)
		}
		return fmt.Sprintf("%s: --%s: %s", fs.Name(), m[2], reason)
	}
	if m := needsValueRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s: --%s needs a value", fs.Name(), m[1])
	}
	return fs.Name() + ": " + msg
}

// checkListenAddr refuses a listen address without a port, or a bare port, with the fix.
func checkListenAddr(name, addr string) error {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return nil
	}
	if _, err := strconv.Atoi(addr); err == nil {
		return usageError{fmt.Sprintf("%s %q has no host: write 127.0.0.1:%s (this machine only) or 0.0.0.0:%s (every interface; set --admin-token then)", name, addr, addr, addr)}
	}
	return usageError{fmt.Sprintf("%s %q is not host:port (want e.g. 127.0.0.1:8080)", name, addr)}
}

// listen opens a TCP listener; a port in use gets a hint.
func listen(name, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		host, _, _ := net.SplitHostPort(addr)
		if host == "" {
			host = "127.0.0.1"
		}
		return nil, fmt.Errorf("%s %s: the port is in use (another smartappmock? 'smartappmock healthcheck --addr %s' asks it); pick a free port with %s %s:0, or another one",
			name, addr, addr, name, host)
	}
	return nil, fmt.Errorf("%s %s: %w", name, addr, err)
}

// exposure says, for the start line, how far a bound listener reaches ("" for this machine only,
// else "every interface; " or "reachable from the network; "), and the warning to log when nothing
// guards the admin API there ("" when an admin token does, or on loopback).
func exposure(a net.Addr, adminToken string) (where, warning string) {
	tcp, ok := a.(*net.TCPAddr)
	if ok && tcp.IP != nil && tcp.IP.IsLoopback() {
		return "", ""
	}
	where = "reachable from the network; "
	if !ok || tcp.IP == nil || tcp.IP.IsUnspecified() {
		where = "every interface; "
	}
	if adminToken == "" {
		warning = "listening beyond this machine without an admin token: anyone who reaches " + boundAddr(a) +
			" can read the journal and change rules, faults and clocks; set SMARTAPPMOCK_ADMIN_TOKEN (or --admin-token-file FILE), or listen on 127.0.0.1"
	}
	return where, warning
}

// boundAddr renders what a listener is bound to, 0.0.0.0:8080 included.
func boundAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		if tcp.IP != nil && tcp.IP.To4() == nil {
			return fmt.Sprintf("[::]:%d", tcp.Port)
		}
		return fmt.Sprintf("0.0.0.0:%d", tcp.Port)
	}
	return tcp.String()
}

// suggestCommand is " (did you mean "x"?)" for a near-miss subcommand, or "".
func suggestCommand(word string, commands ...string) string {
	if s := nearest.Word(word, commands); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}
