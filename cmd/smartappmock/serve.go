package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"time"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/mockserver/observe"
	"github.com/smartappmock/smartappmock/mockserver/pushtarget"
	"github.com/smartappmock/smartappmock/mockserver/requestlog"
	"github.com/smartappmock/smartappmock/mockserver/sandbox"
	"github.com/smartappmock/smartappmock/store"
)

// serveFlags are the settings of serve, from flags over environment over defaults.
type serveFlags struct {
	addr, configFile, adminToken, logFormat string
	journalFile                             string            // NDJSON copy of the journal (observe.JournalSink)
	profile                                 string            // --profile: sandbox or baidu (profile.go)
	addrFromEnv                             bool              // SMARTAPPMOCK_ADDR set it, not --addr
	adminTokenFromFlag                      bool              // --admin-token set it: visible in ps (admintoken.go)
	pushAllow                               *pushtarget.Allow // --push-allow
	logLevel                                slog.Level
	tls                                     tlsFlags      // HTTPS, proxy and CA: ca.go
	store                                   storeFlags    // --store: store.go
	delivery                                deliveryFlags // --push-workers, …: delivery.go
}

// defaultAddr is where the bare binary listens: this machine only. The container image sets
// SMARTAPPMOCK_ADDR=0.0.0.0:8080.
const defaultAddr = "127.0.0.1:8080"

func parseServeFlags(name string, args []string, getenv func(string) string, stderr io.Writer) (serveFlags, error) {
	f := serveFlags{
		addr:        envOr(getenv, "SMARTAPPMOCK_ADDR", defaultAddr),
		configFile:  getenv("SMARTAPPMOCK_CONFIG"),
		adminToken:  getenv("SMARTAPPMOCK_ADMIN_TOKEN"),
		logFormat:   envOr(getenv, "SMARTAPPMOCK_LOG_FORMAT", "text"),
		journalFile: getenv("SMARTAPPMOCK_JOURNAL_FILE"),
		profile:     getenv("SMARTAPPMOCK_PROFILE"),
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.addr, "addr", f.addr, "listen address; 0.0.0.0:8080 for every interface (env SMARTAPPMOCK_ADDR)")
	fs.StringVar(&f.configFile, "config", f.configFile, "configuration file, YAML or JSON; empty: the embedded default (env SMARTAPPMOCK_CONFIG)")
	fs.StringVar(&f.adminToken, "admin-token", f.adminToken, "bearer token the admin API requires; empty: none. Prefer the variable or --admin-token-file: a flag shows in ps (env SMARTAPPMOCK_ADMIN_TOKEN)")
	var tokenFile string
	pushAllow := envOr(getenv, "SMARTAPPMOCK_PUSH_ALLOW", pushtarget.DefaultList)
	fs.StringVar(&pushAllow, "push-allow", pushAllow, "where the message push may go: comma-separated host names, IP addresses, CIDR ranges, loopback, private or any (docs/push.md) (env SMARTAPPMOCK_PUSH_ALLOW)")
	fs.StringVar(&tokenFile, "admin-token-file", getenv("SMARTAPPMOCK_ADMIN_TOKEN_FILE"), "file holding the admin token (surrounding white space ignored) (env SMARTAPPMOCK_ADMIN_TOKEN_FILE)")
	fs.StringVar(&f.logFormat, "log-format", f.logFormat, "log format: text or json (env SMARTAPPMOCK_LOG_FORMAT)")
	f.logLevel = slog.LevelInfo
	if err := f.logLevel.UnmarshalText([]byte(envOr(getenv, "SMARTAPPMOCK_LOG_LEVEL", "info"))); err != nil {
		return f, usageError{fmt.Sprintf("SMARTAPPMOCK_LOG_LEVEL: %q is not debug, info, warn or error", getenv("SMARTAPPMOCK_LOG_LEVEL"))}
	}
	fs.TextVar(&f.logLevel, "log-level", f.logLevel, "log level: debug, info (one line per request), warn or error (env SMARTAPPMOCK_LOG_LEVEL)")
	fs.StringVar(&f.journalFile, "journal-file", f.journalFile, "also append every journal entry to this file as NDJSON; empty: none (env SMARTAPPMOCK_JOURNAL_FILE)")
	fs.StringVar(&f.profile, "profile", f.profile, "sandbox (the file's policy) or baidu (no leniency, whatever the file says: configured apps and issued tokens only, a window only after a user message, no magic values; forms labelled JSON read, as Baidu does) (env SMARTAPPMOCK_PROFILE)")
	if err := f.tls.register(fs, getenv); err != nil {
		return f, err
	}
	if err := f.store.register(fs, getenv); err != nil {
		return f, err
	}
	if err := f.delivery.register(fs, getenv); err != nil {
		return f, err
	}
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		if help {
			return f, errHelp
		}
		return f, err
	}
	if f.store.timeout <= 0 {
		return f, usageError{"--store-timeout: want a positive duration such as 1s or 500ms"}
	}
	if fs.NArg() > 0 {
		return f, usageError{fmt.Sprintf("%s: unexpected argument %q (flags start with --; run 'smartappmock %s -h')", name, fs.Arg(0), name)}
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	f.addrFromEnv = !set["addr"] && getenv("SMARTAPPMOCK_ADDR") != ""
	var err error
	f.adminToken, f.adminTokenFromFlag, err = adminTokenSource{flag: f.adminToken, file: tokenFile,
		envToken: getenv("SMARTAPPMOCK_ADMIN_TOKEN"), envFile: getenv("SMARTAPPMOCK_ADMIN_TOKEN_FILE"),
		flagSet: set["admin-token"], fileSet: set["admin-token-file"]}.resolve()
	if err != nil {
		return f, err
	}
	source := func(flagName, env string) string {
		if set[flagName] || getenv(env) == "" {
			return "--" + flagName
		}
		return env
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		return f, usageError{fmt.Sprintf("%s: %q is not text or json", source("log-format", "SMARTAPPMOCK_LOG_FORMAT"), f.logFormat)}
	}
	if f.pushAllow, err = pushtarget.Parse(pushAllow); err != nil {
		return f, usageError{fmt.Sprintf("%s: %v", source("push-allow", "SMARTAPPMOCK_PUSH_ALLOW"), err)}
	}
	if err := checkListenAddr(source("addr", "SMARTAPPMOCK_ADDR"), f.addr); err != nil {
		return f, err
	}
	if err := checkProfile(source("profile", "SMARTAPPMOCK_PROFILE"), f.profile); err != nil {
		return f, err
	}
	if err := f.delivery.check(); err != nil {
		return f, err
	}
	if !set["tls-addr"] && getenv("SMARTAPPMOCK_TLS_ADDR") == "" {
		f.tls.addr = defaultTLSAddr(f.addr)
	}
	if err := checkListenAddr(source("tls-addr", "SMARTAPPMOCK_TLS_ADDR"), f.tls.addr); err != nil {
		return f, err
	}
	return f, nil
}

// defaultTLSAddr is --tls-addr when not given: --addr's host, port 8443 (0, any free port, when
// --addr's port is 0).
func defaultTLSAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ":8443"
	}
	if port != "0" {
		port = "8443"
	}
	return net.JoinHostPort(host, port)
}

var errHelp = errors.New("help")

// addrFlag names where --addr came from, for messages.
func (f serveFlags) addrFlag() string {
	if f.addrFromEnv {
		return "SMARTAPPMOCK_ADDR"
	}
	return "--addr"
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// loadConfig reads the file, or the embedded default when file is "".
func loadConfig(file string) (*config.Config, error) {
	if file == "" {
		return config.Default(), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return config.Parse(file, data)
}

// serve listens first, prints the address, and serves until ctx is done, then shuts down (see
// drain: every listener stops at once, in-flight requests get shutdownGrace, what is left is
// closed) and closes the journal file; an entry it could not write is an error (exit 1).
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	f, err := parseServeFlags("serve", args, getenv, stderr)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg, err := f.loadConfig()
	if err != nil {
		return err
	}
	logOpts := &slog.HandlerOptions{Level: f.logLevel}
	logOut := newBufferedLog(stderr, 100*time.Millisecond) // logbuf.go
	defer logOut.Close()
	var handler slog.Handler = requestlog.NewHandler(logOut, logOpts) // slog's TextHandler, request lines written directly
	if f.logFormat == "json" {
		handler = slog.NewJSONHandler(logOut, logOpts)
	}
	logger := slog.New(handler)
	if err := f.tls.load(); err != nil {
		return err
	}
	ln, err := listen(f.addrFlag(), f.addr)
	if err != nil {
		return err
	}
	st, closeStore, err := f.store.open(ctx, cfg.Policy.JournalCap, logger) // store.go
	if err != nil {
		ln.Close()
		return err
	}
	defer closeStore()
	metrics := observe.NewMetrics(st)
	sink, err := openJournal(f.journalFile, st, logger) // nil without --journal-file
	if err != nil {
		ln.Close()
		return err
	}
	// After every server has stopped (or on an early return): every answered request is in the file.
	defer func() { err = errors.Join(err, closeJournal(sink)) }()
	adminOpts := admin.Options{Token: f.adminToken, CACert: f.tls.certPEM, LoopbackOnly: isLoopback(ln.Addr()) && (!f.tls.enabled || isLoopbackAddr(f.tls.addr))}
	adminOpts.LoginFailed = func(f admin.LoginFailure) { metrics.AdminLoginFailed(f.Via, f.Throttled) }
	adminOpts.StreamDropped = metrics.InboxStreamDropped
	if sink != nil {
		adminOpts.Health = sink.Err
		metrics.WatchJournal(sink)
	}
	// The sandbox's leniency, where a team looks: a WARN line the first time each kind of warning
	// answers an app, and the counts at shutdown.
	leniency := observe.NewLeniency(logger)
	observeEntry := func(e *store.Entry) {
		metrics.Observe(e)
		leniency.Observe(e)
	}
	sb, err := sandbox.New(
		mockserver.Options{Config: cfg, Store: st, Logger: logger, Version: buildVersion(), Observe: observeEntry, PushAllow: f.pushAllow, StoreDeadline: f.store.timeout},
		adminOpts)
	if err != nil {
		ln.Close()
		return err
	}
	srv := sb.Core
	// Pushes go through the store's outbox: this replica delivers its share with a bounded pool.
	deliveries, err := srv.StartDelivery(f.delivery.options())
	if err != nil {
		ln.Close()
		return err
	}
	stopDeliveries := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), deliveryDrain)
		defer cancel()
		return deliveries.Stop(ctx)
	}
	defer stopDeliveries() // an early return; a second Stop does nothing
	metrics.WatchDelivery(deliveries)
	// The platforms' ticket pushes (platforms[].push): until the server stops.
	scheduleCtx, stopSchedule := context.WithCancel(ctx)
	scheduleDone := make(chan struct{})
	go func() { srv.RunTicketSchedule(scheduleCtx); close(scheduleDone) }()
	defer func() { stopSchedule(); <-scheduleDone }()
	if !f.store.memory() { // a shared store: seed it again when it comes back from an outage
		stopWatch := watchStore(srv.Store(), srv.Seed, srv.Now, logger, storeWatchInterval)
		defer stopWatch()
	}
	var inflight handlers // shutdown.go: drain waits for them
	fake := inflight.wrap(metrics.Wrap(sb))
	hs := mockserver.DefaultServerTimeouts().HTTPServer(fake, slog.NewLogLogger(handler, slog.LevelWarn))
	side, err := f.tls.start(fake, srv, hs, logger)
	if err != nil {
		ln.Close()
		return err
	}
	// Every listener is up: now the CA file, then the lines that tell clients where to go.
	if err := f.tls.writeCAFile(); err != nil {
		ln.Close()
		_ = side.shutdown(context.Background())
		return err
	}
	source := "embedded default"
	if f.configFile != "" {
		source = f.configFile
	}
	if f.tls.warning != "" {
		logger.Warn(f.tls.warning)
	}
	if f.adminTokenFromFlag {
		logger.Warn(adminTokenFlagWarning)
	}
	where, warning := exposure(ln.Addr(), f.adminToken)
	if warning != "" {
		logger.Warn(warning)
	}
	fmt.Fprintf(stdout, "smartappmock %s listening on http://%s (%sconfig: %s%s)\n", buildVersion(), boundAddr(ln.Addr()), where, source, f.store.startLine())
	side.printAddrs(stdout, displayAddr(ln.Addr()))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	srv.ReleaseFaults() // requests held by a fault are answered now
	// The push deliveries in flight get deliveryDrain to finish, then are canceled: each attempt
	// is journaled, the admin callers waiting for them are answered, and the pushes stay in the
	// outbox for another replica. Meanwhile the listeners drain.
	delivered := make(chan error, 1)
	go func() { delivered <- stopDeliveries() }()
	err = drain(append(side.servers(), hs), &inflight, shutdownGrace, handlerWait, logger)
	if derr := <-delivered; derr != nil {
		logger.Warn("shutdown: push deliveries still running were canceled and left in the outbox", "after", deliveryDrain)
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	err = errors.Join(err, side.served())
	if summary := leniency.Summary(); summary != "" {
		logger.Warn(summary)
	}
	return err // the deferred closeJournal adds what the journal file could not take
}

// isLoopback reports whether a listener's address is a loopback address (not a wildcard).
func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP != nil && tcp.IP.IsLoopback()
}

// isLoopbackAddr reports whether a listen address ("host:port") names a loopback host.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// displayAddr renders a listener address a person can paste: an unspecified host becomes 127.0.0.1.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		return fmt.Sprintf("127.0.0.1:%d", tcp.Port)
	}
	return tcp.String()
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

const configUsage = `usage:
  smartappmock config check FILE   check a configuration file (YAML or JSON): exit 0 and a summary
                                   when the fake would start with it, else the file, line and fix
  smartappmock config default      print the embedded default configuration, a file to start from
`

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// configCmd runs "config check FILE" and "config default".
func configCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, configUsage)
		return usageError{"config: want 'config check FILE' or 'config default'"}
	}
	if isHelp(args[0]) || (len(args) > 1 && slices.ContainsFunc(args[1:], isHelp)) {
		fmt.Fprint(stdout, configUsage)
		return nil
	}
	switch args[0] {
	case "default":
		if len(args) != 1 {
			return usageError{"config default takes no arguments"}
		}
		_, err := stdout.Write(config.DefaultYAML())
		return err
	case "check":
		if len(args) != 2 {
			return usageError{"config check: want exactly one FILE"}
		}
		cfg, err := loadConfig(args[1])
		if err != nil {
			return err
		}
		// Push targets are serve's setting (--push-allow), not the file's: not checked here.
		anyTarget, _ := pushtarget.Parse("any")
		if _, err := mockserver.New(mockserver.Options{Config: cfg, PushAllow: anyTarget}); err != nil {
			return fmt.Errorf("%s: %w", args[1], err)
		}
		fmt.Fprintf(stdout, "%s: ok (%d apps, %d rules, apps %s, tokens %s, window %s)\n", args[1], len(cfg.Apps), len(cfg.Rules), cfg.Policy.Apps, cfg.Policy.Tokens, cfg.Policy.Window.Mode)
		fmt.Fprintln(stdout, profileLine(cfg.Policy.Profile))
		return nil
	}
	if s := suggestCommand(args[0], "check", "default"); s != "" {
		return usageError{fmt.Sprintf("config: unknown subcommand %q%s", args[0], s)}
	}
	return usageError{fmt.Sprintf("config: unknown subcommand %q (want check or default)", args[0])}
}

// healthcheck asks a running fake's /__admin/health; it is the container's HEALTHCHECK.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr(getenv, "SMARTAPPMOCK_ADDR", defaultAddr), "address of the fake (env SMARTAPPMOCK_ADDR)")
	timeout := 2 * time.Second
	fs.Var(durationValue{&timeout}, "timeout", "how long to wait for the answer")
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("healthcheck: unexpected argument %q", fs.Arg(0))}
	}
	if err := checkListenAddr("--addr", *addr); err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(*addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+admin.Prefix+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: %s", resp.Status)
	}
	fmt.Fprintln(stdout, "healthy")
	return nil
}
