// Package smartappmock is a testcontainers-go module for the smartappmock image: the fake Baidu
// Smart Mini Program customer-service API in a container, started for a test and removed after it.
//
// Run starts the image and waits until its health check answers; URL is the base URL a client
// under test uses instead of https://openapi.baidu.com, InboxURL the web inbox, Admin a typed
// client of the admin API (journal, windows, rules, faults, resets). Options set the
// configuration file, add apps and push targets, point the fake at a Redis (SMARTAPPMOCK_STORE),
// set the admin token, and turn HTTPS on (CACertPEM and TLSConfig then trust the fake's CA).
//
// It is a Go module of its own, so that the smartappmock module gains no dependency on
// testcontainers-go. It needs a Docker API: Docker, or podman's socket (podman system service)
// with DOCKER_HOST pointing at it and TESTCONTAINERS_RYUK_DISABLED=true where the Ryuk image
// cannot be pulled. Ports are published on 127.0.0.1 only; where the tests themselves run in a
// container, testcontainers-go looks for them on the bridge's gateway, so set
// TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 there.
package smartappmock

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
	"go.yaml.in/yaml/v4"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver/admin"
)

// DefaultImage is the image name the docs build the Dockerfile under (docker build -t
// smartappmock .). There is no published image: build it, or pass your registry's name to Run.
const DefaultImage = "smartappmock:latest"

// The container's ports: HTTP always, HTTPS with WithTLS.
const (
	HTTPPort  = "8080/tcp"
	HTTPSPort = "8443/tcp"
)

// ConfigPath is where a configuration given by option is put in the container.
const ConfigPath = "/etc/smartappmock/config.yaml"

// Container is a running smartappmock container.
type Container struct {
	testcontainers.Container
	adminToken string
	tls        bool
}

// settings collects the module's own options before the container request is made.
type settings struct {
	configFile string
	config     *config.Config
	apps       []config.App
	push       map[string]config.Push
	pushOrder  []string
	redisURL   string
	adminToken string
	tls        bool
}

// Option is one of this module's options. It is also a testcontainers.ContainerCustomizer, so
// it mixes with testcontainers-go's own options (testcontainers.WithEnv, WithLogConsumers, ...)
// in Run's list.
type Option func(*settings) error

// Customize does nothing: Run applies Options before it builds the request.
func (o Option) Customize(*testcontainers.GenericContainerRequest) error { return nil }

// WithConfigFile uses the configuration file at path (YAML or JSON, as smartappmock serve
// --config reads it). WithApps and WithPushTarget add to it.
func WithConfigFile(path string) Option {
	return func(s *settings) error {
		if s.config != nil {
			return errors.New("WithConfigFile and WithConfig both given: use one")
		}
		s.configFile = path
		return nil
	}
}

// WithConfig uses cfg as the configuration. WithApps and WithPushTarget add to it.
func WithConfig(cfg *config.Config) Option {
	return func(s *settings) error {
		if s.configFile != "" {
			return errors.New("WithConfigFile and WithConfig both given: use one")
		}
		s.config = cfg
		return nil
	}
}

// WithApps adds apps to the configuration (the embedded default one when no other is given).
func WithApps(apps ...config.App) Option {
	return func(s *settings) error {
		s.apps = append(s.apps, apps...)
		return nil
	}
}

// WithPushTarget makes the fake push what users write to app (its id) to the bot p describes
// (config.Push: URL, token, mode, format). The URL must be reachable from inside the container.
func WithPushTarget(app string, p config.Push) Option {
	return func(s *settings) error {
		if s.push == nil {
			s.push = map[string]config.Push{}
		}
		if _, dup := s.push[app]; !dup {
			s.pushOrder = append(s.pushOrder, app)
		}
		s.push[app] = p
		return nil
	}
}

// WithRedis keeps the fake's state in the Redis at url (redis://host:6379/0, as reached from
// inside the container), so that several containers behave as one fake (docs/scale-out.md).
func WithRedis(url string) Option {
	return func(s *settings) error {
		s.redisURL = url
		return nil
	}
}

// WithAdminToken makes the admin API want the bearer token (Admin's client sends it).
func WithAdminToken(token string) Option {
	return func(s *settings) error {
		s.adminToken = token
		return nil
	}
}

// WithTLS turns the HTTPS listener on (port 8443, a certificate from the fake's own CA): see
// HTTPSURL, CACertPEM and TLSConfig.
func WithTLS() Option {
	return func(s *settings) error {
		s.tls = true
		return nil
	}
}

// Run starts the image img (DefaultImage, or your registry's name for it) and waits until the
// fake answers its health check. On an error after the container was created, the returned
// Container is not nil, so that testcontainers.CleanupContainer or TerminateContainer can still
// remove it.
func Run(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	var s settings
	for _, o := range opts {
		if o, ok := o.(Option); ok {
			if err := o(&s); err != nil {
				return nil, fmt.Errorf("smartappmock: %w", err)
			}
		}
	}
	env := map[string]string{}
	ports := []string{HTTPPort}
	waits := []wait.Strategy{wait.ForHTTP("/__admin/health").WithPort(HTTPPort).WithStartupTimeout(60 * time.Second)}
	var files []testcontainers.ContainerFile
	cfg, err := s.configYAML()
	if err != nil {
		return nil, fmt.Errorf("smartappmock: %w", err)
	}
	if cfg != nil {
		files = append(files, testcontainers.ContainerFile{Reader: bytes.NewReader(cfg), ContainerFilePath: ConfigPath, FileMode: 0o444})
		env["SMARTAPPMOCK_CONFIG"] = ConfigPath
	}
	if s.redisURL != "" {
		env["SMARTAPPMOCK_STORE"] = s.redisURL
		waits = append(waits, wait.ForHTTP("/__admin/ready").WithPort(HTTPPort))
	}
	if s.adminToken != "" {
		env["SMARTAPPMOCK_ADMIN_TOKEN"] = s.adminToken
	}
	if s.tls {
		env["SMARTAPPMOCK_TLS"] = "1"
		ports = append(ports, HTTPSPort)
		waits = append(waits, wait.ForListeningPort(HTTPSPort))
	}
	moduleOpts := []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(ports...),
		// Published on the host's loopback only: the admin API is open without a token.
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			if hc.PortBindings == nil {
				hc.PortBindings = network.PortMap{}
			}
			for _, p := range ports {
				hc.PortBindings[network.MustParsePort(p)] = []network.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1")}}
			}
		}),
		testcontainers.WithEnv(env),
		testcontainers.WithWaitStrategy(wait.ForAll(waits...)),
	}
	if len(files) > 0 {
		moduleOpts = append(moduleOpts, testcontainers.WithFiles(files...))
	}
	// The caller's options come last, so they can override any of the module's.
	ctr, err := testcontainers.Run(ctx, img, append(moduleOpts, opts...)...)
	var c *Container
	if ctr != nil {
		c = &Container{Container: ctr, adminToken: s.adminToken, tls: s.tls}
	}
	if err != nil {
		return c, fmt.Errorf("smartappmock: run %s: %w", img, err)
	}
	return c, nil
}

// configYAML returns the configuration file the options describe, or nil when they leave the
// image's own (the embedded default) in force.
func (s *settings) configYAML() ([]byte, error) {
	if s.configFile == "" && s.config == nil && len(s.apps) == 0 && len(s.push) == 0 {
		return nil, nil
	}
	cfg := s.config
	if cfg == nil {
		name, data := "embedded default", config.DefaultYAML()
		if s.configFile != "" {
			var err error
			if data, err = os.ReadFile(s.configFile); err != nil {
				return nil, err
			}
			name = s.configFile
		}
		var err error
		if cfg, err = config.Parse(name, data); err != nil {
			return nil, err
		}
	} else {
		cp := *cfg
		cp.Apps = append([]config.App(nil), cfg.Apps...)
		cfg = &cp
	}
	cfg.Apps = append(cfg.Apps, s.apps...)
	for _, id := range s.pushOrder {
		p := s.push[id]
		found := false
		for i := range cfg.Apps {
			if cfg.Apps[i].ID == id {
				cfg.Apps[i].Push = &p
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("WithPushTarget(%q): no app with that id in the configuration", id)
		}
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	// The container would refuse a bad file at start with a message only its logs show: check
	// it here, where the error reaches the test.
	if _, err := config.Parse("the configuration given to Run", data); err != nil {
		return nil, err
	}
	return data, nil
}

// URL returns the fake's HTTP base URL as the host reaches it, e.g. http://127.0.0.1:32768: a
// client under test uses it instead of https://openapi.baidu.com.
func (c *Container) URL(ctx context.Context) (string, error) {
	return c.PortEndpoint(ctx, HTTPPort, "http")
}

// HTTPSURL returns the HTTPS base URL (WithTLS); CACertPEM and TLSConfig trust its certificate.
func (c *Container) HTTPSURL(ctx context.Context) (string, error) {
	if !c.tls {
		return "", errors.New("smartappmock: HTTPSURL needs WithTLS")
	}
	return c.PortEndpoint(ctx, HTTPSPort, "https")
}

// InboxURL returns the web inbox's URL (/__admin/ui/): the conversations the fake served.
func (c *Container) InboxURL(ctx context.Context) (string, error) {
	u, err := c.URL(ctx)
	if err != nil {
		return "", err
	}
	return u + "/__admin/ui/", nil
}

// Admin returns a typed client of the fake's admin API, with the admin token of WithAdminToken.
func (c *Container) Admin(ctx context.Context) (*admin.Client, error) {
	u, err := c.URL(ctx)
	if err != nil {
		return nil, err
	}
	return &admin.Client{BaseURL: u, Token: c.adminToken}, nil
}

// CACertPEM returns the PEM certificate of the fake's CA, which signs its HTTPS certificate and
// the proxy's (GET /__admin/ca).
func (c *Container) CACertPEM(ctx context.Context) ([]byte, error) {
	u, err := c.URL(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"/__admin/ca", nil)
	if err != nil {
		return nil, err
	}
	if c.adminToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.adminToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	pem, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("smartappmock: GET /__admin/ca: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(pem))
	}
	return pem, nil
}

// TLSConfig returns a TLS configuration that trusts the fake's CA (and only it).
func (c *Container) TLSConfig(ctx context.Context) (*tls.Config, error) {
	pem, err := c.CACertPEM(ctx)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("smartappmock: GET /__admin/ca gave no PEM certificate")
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
