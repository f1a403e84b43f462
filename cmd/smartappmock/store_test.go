package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
)

const testPassword = "s3cr3t-pw"

func TestParseServeFlags_Store(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		args      []string
		env       string
		wantURL   string
		wantErr   string // "" for success
		wantStart string // what the start line says about the store
	}{
		{"MemoryByDefault", nil, "", "memory", "", ""},
		{"RedisFromFlag", []string{"--store", "redis://127.0.0.1:6379/0"}, "", "redis://127.0.0.1:6379/0", "", ", store: redis://127.0.0.1:6379/0"},
		{"UnixSocketFromEnvironment", nil, "unix:///run/redis.sock", "unix:///run/redis.sock", "", ", store: unix:///run/redis.sock"},
		{"FlagWinsOverEnvironment", []string{"--store", "memory"}, "unix:///run/redis.sock", "memory", "", ""},
		{"PasswordMaskedInTheStartLine", []string{"--store", "redis://user:" + testPassword + "@h:6379/1"}, "", "redis://user:" + testPassword + "@h:6379/1", "", ", store: redis://user:xxxxx@h:6379/1"},
		{"UnknownScheme_ErrorWithoutThePassword", []string{"--store", "postgres://user:" + testPassword + "@h/db"}, "", "", `serve: --store: "postgres://user:xxxxx@h/db" is not memory, redis://`, ""},
		{"UnparsableURLInEnvironment_ErrorWithoutThePassword", nil, "redis://user:" + testPassword + "@[::1/0", "", `SMARTAPPMOCK_STORE: "redis://user:xxxxx@[::1/0" is not memory`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"SMARTAPPMOCK_STORE": tc.env}
			f, err := parseServeFlags("serve", tc.args, func(k string) string { return env[k] }, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), testPassword) {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.store.url != tc.wantURL {
				t.Errorf("store URL %q, want %q", f.store.url, tc.wantURL)
			}
			if got := f.store.startLine(); got != tc.wantStart {
				t.Errorf("startLine() = %q, want %q", got, tc.wantStart)
			}
		})
	}
}

func TestServeHelp_StoreDefaultWithoutThePassword(t *testing.T) {
	t.Parallel()
	var help strings.Builder
	env := map[string]string{"SMARTAPPMOCK_STORE": "redis://user:" + testPassword + "@h:6379/0"}
	_ = run(t.Context(), []string{"serve", "-h"}, func(k string) string { return env[k] }, &help, &help)
	if !strings.Contains(help.String(), "(default redis://user:xxxxx@h:6379/0)") || strings.Contains(help.String(), testPassword) {
		t.Errorf("serve -h shows the store default as:\n%s", help.String())
	}
}

func TestServe_StoreUnreachableAtStart_FailsClearly(t *testing.T) {
	t.Parallel()
	var stdout, stderr strings.Builder
	args := []string{"serve", "--addr", "127.0.0.1:0", "--store", "redis://user:" + testPassword + "@127.0.0.1:1/0"}
	err := run(t.Context(), args, func(string) string { return "" }, &stdout, &stderr)
	if err == nil {
		t.Fatal("serve started without its store")
	}
	for _, want := range []string{"--store: the store does not answer, so the fake cannot start", "redis://user:xxxxx@127.0.0.1:1/0", "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q, want it to contain %q", err, want)
		}
	}
	if all := err.Error() + stdout.String() + stderr.String(); strings.Contains(all, testPassword) {
		t.Errorf("the password shows: %s", all)
	}
	if stdout.String() != "" {
		t.Errorf("serve printed a start line: %q", stdout.String())
	}
}

func TestRedisLog_DebugLevelWithoutThePassword(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	l := redisLog{slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})), testPassword}
	l.Printf(context.Background(), "auth with %s failed\n", testPassword)
	if got := out.String(); !strings.Contains(got, "level=DEBUG") || !strings.Contains(got, `"redis: auth with xxxxx failed"`) {
		t.Errorf("logged %q", got)
	}
}

// flakyStore is a memory store whose Ping fails while down is set, and whose Head can be set
// back, as a Redis that restarted without its data would show it; it counts probes and seeds.
type flakyStore struct {
	store.Store
	down   atomic.Bool
	head   atomic.Uint64
	probes atomic.Int32
	seeds  atomic.Int32
}

var errDown = errors.New("connection refused")

func (f *flakyStore) Ping(context.Context) error {
	f.probes.Add(1)
	if f.down.Load() {
		return errDown
	}
	return nil
}

func (f *flakyStore) Head(context.Context) (uint64, error) {
	if f.down.Load() {
		return 0, errDown
	}
	return f.head.Load(), nil
}

func (f *flakyStore) Seed(ctx context.Context, s store.Seed) error {
	if f.down.Load() {
		return errDown
	}
	f.seeds.Add(1)
	return f.Store.Seed(ctx, s)
}

// waitProbes waits until the watcher probed f n more times (at most 10 s).
func (f *flakyStore) waitProbes(t *testing.T, n int32) {
	t.Helper()
	want := f.probes.Load() + n
	for deadline := time.Now().Add(10 * time.Second); f.probes.Load() < want; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the watcher probed %d times in 10 s, want %d", f.probes.Load(), want)
		}
	}
}

func TestWatchStore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		event     func(t *testing.T, f *flakyStore) // what happens to the store after a few healthy probes
		wantSeeds int32
		wantLog   []string
	}{
		{"Healthy_NoSeed", func(*testing.T, *flakyStore) {}, 0, nil},
		{"AnswersAgainAfterAnOutage_SeedsOnce", func(t *testing.T, f *flakyStore) {
			f.down.Store(true)
			f.waitProbes(t, 3) // several probes fail: logged once
			f.down.Store(false)
		}, 1, []string{"store does not answer", "store answers again; configured state seeded again"}},
		{"HeadWentBack_SeedsOnce", func(_ *testing.T, f *flakyStore) { f.head.Store(3) }, 1, []string{"store lost its journal"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &flakyStore{Store: memstore.New(10)}
			f.head.Store(100)
			var log syncBuffer
			logger := slog.New(slog.NewTextHandler(&log, nil))
			seed := func(at time.Time) store.Seed {
				return store.Seed{At: at, Apps: []store.App{{ID: "app1", Source: "config"}}}
			}
			stop := watchStore(f, seed, time.Now, logger, time.Millisecond)
			defer stop()
			f.waitProbes(t, 3) // healthy probes: the head is learnt
			tc.event(t, f)
			f.waitProbes(t, 5) // probes after the event
			stop()
			if got := f.seeds.Load(); got != tc.wantSeeds {
				t.Errorf("seeded %d times, want %d\nlog:\n%s", got, tc.wantSeeds, log.String())
			}
			if _, ok, _ := f.Store.App(context.Background(), "app1"); ok != (tc.wantSeeds > 0) {
				t.Errorf("the seeded app is in the store: %v, want %v", ok, tc.wantSeeds > 0)
			}
			for _, want := range tc.wantLog {
				if n := strings.Count(log.String(), want); n != 1 {
					t.Errorf("log has %q %d times, want once:\n%s", want, n, log.String())
				}
			}
		})
	}
}
