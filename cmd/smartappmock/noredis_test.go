package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock/internal/testenv"
)

// TestNoRedisBuild_RefusesARedisStoreAndSaysWhy builds the binary with -tags noredis (2 MB
// smaller, for whoever wants the in-memory fake only): a --store redis://… stops at once with a
// message that says how to get a build with the Redis client.
func TestNoRedisBuild_RefusesARedisStoreAndSaysWhy(t *testing.T) {
	testenv.SkipIfShort(t, "builds the command with go build -tags noredis")
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build with: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "smartappmock")
	// No -trimpath or CGO_ENABLED=0 (the Dockerfile's): with the flags of the other builds of the
	// command, only the packages the tag changes are compiled again (size_test.go says why).
	build := exec.Command(goTool, "build", "-tags", "noredis", "-ldflags=-s -w", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags noredis: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--store", "redis://127.0.0.1:1/0").CombinedOutput()
	if err == nil {
		t.Fatalf("serve --store redis://… on a noredis build succeeded:\n%s", out)
	}
	if !strings.Contains(string(out), "this build has no Redis store") || !strings.Contains(string(out), "build without it") {
		t.Errorf("the refusal does not say why or how to get the other image:\n%s", out)
	}
}
