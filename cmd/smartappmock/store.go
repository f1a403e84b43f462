package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/guard"
	"github.com/smartappmock/smartappmock/store/memstore"
)

// The store: --store (SMARTAPPMOCK_STORE) says where the state lives. "memory" (the default) keeps
// it in this process; a Redis URL shares it with every replica on the same Redis. A Redis store
// must answer at start; afterwards watchStore seeds the configured state again whenever Redis
// comes back from an outage.

// storeFlags is serve's --store setting.
type storeFlags struct {
	url     string        // "memory" or a Redis URL, password and all: never print it, print display()
	source  string        // "--store" or "SMARTAPPMOCK_STORE", for messages
	timeout time.Duration // --store-timeout: the deadline of every call to a Redis store
}

// storeTimeoutUsage is the help text of --store-timeout.
const storeTimeoutUsage = "the deadline of every call to a Redis store; while Redis does not answer, sends answer error_code 2 within it and the admin API 503 (env SMARTAPPMOCK_STORE_TIMEOUT)"

// storeUsage is the help text of --store.
const storeUsage = "where the state lives, a `URL`: memory (this process), or a Redis that replicas share: redis://[user:password@]host:port/db or unix:///path/to/redis.sock (env SMARTAPPMOCK_STORE)"

// register adds --store to fs, with its default from the environment; a variable that is not a
// store URL is an error that names it.
func (s *storeFlags) register(fs *flag.FlagSet, getenv func(string) string) error {
	s.url, s.source = "memory", "--store"
	if v := getenv("SMARTAPPMOCK_STORE"); v != "" {
		if err := checkStoreURL(v); err != nil {
			return usageError{"SMARTAPPMOCK_STORE: " + err.Error()}
		}
		s.url, s.source = v, "SMARTAPPMOCK_STORE"
	}
	fs.Var(storeValue{s}, "store", storeUsage)
	s.timeout = guard.DefaultDeadline
	if v := getenv("SMARTAPPMOCK_STORE_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return usageError{fmt.Sprintf("SMARTAPPMOCK_STORE_TIMEOUT: %q is not a positive duration such as 1s or 500ms", v)}
		}
		s.timeout = d
	}
	fs.DurationVar(&s.timeout, "store-timeout", s.timeout, storeTimeoutUsage)
	return nil
}

// storeValue is the --store flag: it checks the URL and never shows its password (the flag
// package prints a flag's value as its default in -h).
type storeValue struct{ s *storeFlags }

func (v storeValue) String() string {
	if v.s == nil {
		return ""
	}
	return v.s.display()
}

func (v storeValue) Set(raw string) error {
	if err := checkStoreURL(raw); err != nil {
		return err
	}
	v.s.url, v.s.source = raw, "--store"
	return nil
}

// checkStoreURL accepts memory and the URL schemes of a Redis store; its error shows the URL
// without its password.
func checkStoreURL(raw string) error {
	if raw == "memory" {
		return nil
	}
	u, err := url.Parse(raw)
	if err == nil {
		switch u.Scheme {
		case "redis", "rediss", "unix":
			if why := malformedStoreURL(u); why != "" {
				return fmt.Errorf("%q: %s", redactStoreURL(raw), why)
			}
			if err := checkRedisURL(raw); err != nil { // store_redis.go: go-redis's own parser
				return fmt.Errorf("%q: %s", redactStoreURL(raw), strings.TrimPrefix(err.Error(), "redis: "))
			}
			return nil
		}
	}
	return fmt.Errorf("%q is not memory, redis://[user:password@]host:port/db or unix:///path/to/redis.sock", redactStoreURL(raw))
}

// malformedStoreURL says what is wrong with a Redis store URL, or "": the store URL is parsed
// before anything is dialled, so a typo is not reported as a store that does not answer.
func malformedStoreURL(u *url.URL) string {
	if u.Scheme == "unix" {
		if u.Path == "" {
			return "no socket path (want unix:///path/to/redis.sock)"
		}
		return ""
	}
	want := fmt.Sprintf("(want %s://[user:password@]host:port/db, e.g. %s://127.0.0.1:6379/0)", u.Scheme, u.Scheme)
	if u.Opaque != "" || u.Host == "" {
		return "no host " + want
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if _, err := strconv.Atoi(db); err != nil || strings.Contains(db, "/") {
			return fmt.Sprintf("the database %q is not a number %s", db, want)
		}
	}
	return ""
}

// userinfoRE finds the password of a URL that url.Parse refuses.
var userinfoRE = regexp.MustCompile(`://([^:@/]*):[^@/]*@`)

// redactStoreURL returns a store URL with its password replaced by xxxxx, also when the URL does
// not parse.
func redactStoreURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return userinfoRE.ReplaceAllString(raw, "://$1:xxxxx@")
}

// display is the store's URL as logs and the start line show it: without the password.
func (s storeFlags) display() string { return redactStoreURL(s.url) }

// memory reports whether the state stays in this process.
func (s storeFlags) memory() bool { return s.url == "" || s.url == "memory" }

// startLine is what the start line says about the store: nothing for the default.
func (s storeFlags) startLine() string {
	if s.memory() {
		return ""
	}
	return ", store: " + s.display()
}

// storeOpenTimeout bounds the wait for Redis at start.
const storeOpenTimeout = 5 * time.Second

// open opens the store: the memory store, or a Redis store that answered a PING. It routes
// go-redis's own log lines (a failed dial, …) to log at debug level, since go-redis writes them to
// stderr otherwise; the store's errors reach the log through the requests they fail.
func (s storeFlags) open(ctx context.Context, journalCap int, log *slog.Logger) (store.Store, func() error, error) {
	if s.memory() {
		return memstore.New(journalCap), func() error { return nil }, nil
	}
	st, closeStore, err := openRedis(ctx, s.url, journalCap, redisLog{log, s.password()}) // store_redis.go
	if err != nil {
		// redisstore's errors never show the password.
		return nil, nil, fmt.Errorf("%s: the store does not answer, so the fake cannot start (start Redis, or use --store memory): %w", s.source, err)
	}
	return st, closeStore, nil
}

// password returns the URL's password, to keep it out of go-redis's log lines.
func (s storeFlags) password() string {
	u, err := url.Parse(s.url)
	if err != nil {
		return ""
	}
	pw, _ := u.User.Password()
	return pw
}

// redisLog is go-redis's logger: its lines go to the fake's log at debug level, password removed.
type redisLog struct {
	log      *slog.Logger
	password string
}

// Printf implements go-redis's internal.Logging.
func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	if r.password != "" {
		msg = strings.ReplaceAll(msg, r.password, "xxxxx")
	}
	r.log.Debug("redis: " + msg)
}

// storeWatchInterval is how often watchStore asks the store whether it answers.
const storeWatchInterval = time.Second

// watchStore asks st every interval whether it answers (Ping) and how far its journal goes
// (Head). When st answers again after failing, or its head went back (a Redis that restarted
// without its data), it seeds the configured state again: Seed only adds what is absent (apps,
// tokens, windows; rules and fault plans when none were ever set), so doing it once too often
// changes nothing, and a replica recovers from a Redis outage by itself, without a restart. It
// logs the store's failure once and its recovery once. stop ends it and waits.
func watchStore(st store.Store, seed func(at time.Time) store.Seed, now func() time.Time, log *slog.Logger, every time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		var (
			failing bool
			head    uint64
		)
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			pctx, pcancel := context.WithTimeout(ctx, every)
			err := st.Ping(pctx)
			var h uint64
			if err == nil {
				h, err = st.Head(pctx)
			}
			switch {
			case ctx.Err() != nil:
			case err != nil:
				if !failing {
					log.Warn("store does not answer: sends answer error_code 2 and /__admin/ready 503 until it does", "err", err)
				}
				failing = true
			case failing || h < head:
				why := "store answers again"
				if !failing {
					why = "store lost its journal (restarted without its data?)"
				}
				if err := st.Seed(pctx, seed(now())); err != nil {
					log.Warn(why+"; seeding the configured state failed, trying again", "err", err)
					failing = true
					break
				}
				log.Info(why + "; configured state seeded again")
				failing, head = false, h
			default:
				head = h
			}
			pcancel()
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
