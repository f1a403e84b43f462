package smartappmock_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"

	smartappmock "github.com/smartappmock/smartappmock/testcontainers"
)

// image is the image the tests and examples run: SMARTAPPMOCK_IMAGE, or the name the docs build
// the Dockerfile under.
var image = imageFromEnv()

func imageFromEnv() string {
	if v := os.Getenv("SMARTAPPMOCK_IMAGE"); v != "" {
		return v
	}
	return smartappmock.DefaultImage
}

// TestMain runs the tests and examples only where a container engine answers and has the image.
// Without one they are skipped with one line, except under CI=true (CI starts podman's API
// service and builds the image: scripts/container-test.sh), where that is a failure.
func TestMain(m *testing.M) {
	if why := engineMissing(); why != "" {
		if ci := strings.ToLower(os.Getenv("CI")); ci == "true" || ci == "1" {
			fmt.Fprintf(os.Stderr, "FAIL: %s; CI=true, so this is a failure (scripts/container-test.sh starts podman's API service and builds the image)\n", why)
			os.Exit(1)
		}
		fmt.Printf("skipping every test: %s\n", why)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// engineMissing says why no test can run ("" when they can): no Docker API answers (DOCKER_HOST,
// or Docker's default socket), or it does not have the image.
func engineMissing() (why string) {
	defer func() {
		if r := recover(); r != nil { // testcontainers-go panics when it finds no engine at all
			why = fmt.Sprintf("needs a container engine with the Docker API (Docker, or podman system service with DOCKER_HOST): %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := testcontainers.ProviderDocker.GetProvider()
	if err == nil {
		defer p.Close()
		err = p.Health(ctx)
	}
	if err != nil {
		return fmt.Sprintf("needs a container engine with the Docker API (Docker, or podman system service with DOCKER_HOST): %v", firstLine(err.Error()))
	}
	dp, ok := p.(*testcontainers.DockerProvider)
	if !ok {
		return ""
	}
	if _, err := dp.Client().ImageInspect(ctx, image); err != nil {
		return fmt.Sprintf("needs the image %s (docker build -t smartappmock ., or set SMARTAPPMOCK_IMAGE): %v", image, firstLine(err.Error()))
	}
	return ""
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
