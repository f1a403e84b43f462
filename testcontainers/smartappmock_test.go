package smartappmock_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
	"go.yaml.in/yaml/v4"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/store"
	smartappmock "github.com/smartappmock/smartappmock/testcontainers"
)

// run starts the image with opts and removes the container when the test ends.
func run(t *testing.T, opts ...testcontainers.ContainerCustomizer) *smartappmock.Container {
	t.Helper()
	c, err := smartappmock.Run(t.Context(), image, opts...)
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// baseURL is c's URL, or the test fails.
func baseURL(t *testing.T, c *smartappmock.Container) string {
	t.Helper()
	u, err := c.URL(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// token gets an access token for clientID through base.
func token(t *testing.T, base, clientID, secret string) string {
	t.Helper()
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	body := get(t, base+"/oauth/2.0/token?"+q.Encode(), http.StatusOK)
	if err := json.Unmarshal([]byte(body), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("no token for %s: %s", clientID, body)
	}
	return tok.AccessToken
}

// send sends a text message and returns the answer's body.
func send(t *testing.T, base, tok, openID string) string {
	t.Helper()
	form := url.Values{"user_type": {"1"}, "open_id": {openID}, "msg_type": {"text"}, "content": {"hello"}}
	resp, err := http.PostForm(base+"/rest/2.0/smartapp/message/custom/send?access_token="+url.QueryEscape(tok), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// get fetches u and checks the status.
func get(t *testing.T, u string, wantStatus int) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s: HTTP %d, want %d: %s", u, resp.StatusCode, wantStatus, b)
	}
	return string(b)
}

const ok = `{"errno":0,"msg":"success"}`

func TestRun_DefaultSandbox_SendsAndJournals(t *testing.T) {
	t.Parallel()
	c := run(t)
	base := baseURL(t, c)
	if !strings.HasPrefix(base, "http://") {
		t.Errorf("URL = %q, want http://…", base)
	}
	tok := token(t, base, "tc-app", "tc-secret")
	if got := send(t, base, tok, "user-1"); got != ok {
		t.Errorf("send = %s, want %s", got, ok)
	}
	adm, err := c.Admin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	entries, err := adm.Requests(t.Context(), store.Query{OpenID: "user-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("journal for user-1 has %d entries, want 1: %+v", len(entries), entries)
	}
	inbox, err := c.InboxURL(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if page := get(t, inbox, http.StatusOK); !strings.Contains(strings.ToLower(page), "<html") {
		t.Errorf("InboxURL %s is not a page: %.200s", inbox, page)
	}
}

func TestRun_ConfigFileAppsAndAdminToken(t *testing.T) {
	t.Parallel()
	c := run(t,
		smartappmock.WithConfigFile("../deploy/compose/smartappmock.yaml"),
		smartappmock.WithApps(config.App{ID: "30001", ClientID: "tc-client", ClientSecret: "tc-secret", UserMessages: []string{"u-carol"}}),
		smartappmock.WithAdminToken("tc-admin"),
	)
	base := baseURL(t, c)
	// The file's strict policy holds: an unknown client gets no token.
	get(t, base+"/oauth/2.0/token?grant_type=client_credentials&client_id=nobody&client_secret=x", http.StatusBadRequest)
	if got := send(t, base, token(t, base, "tc-client", "tc-secret"), "u-carol"); got != ok {
		t.Errorf("send to the added app's user = %s, want %s", got, ok)
	}
	adm, err := c.Admin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	apps, err := adm.Apps(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range apps.Apps {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	if diff := cmp.Diff([]string{"20001", "30001"}, ids); diff != "" {
		t.Errorf("apps mismatch (-want +got):\n%s", diff)
	}
	noToken := &admin.Client{BaseURL: base}
	if _, err := noToken.Apps(t.Context()); !admin.IsStatus(err, http.StatusUnauthorized) {
		t.Errorf("admin API without the token: %v, want HTTP 401", err)
	}
}

func TestRun_PushTarget_InTheAppsConfiguration(t *testing.T) {
	t.Parallel()
	target := config.Push{Config: baidupush.Config{URL: "http://bot.example:8081/baidu/push", Token: "tc-push-token", Format: baidupush.FormatJSON}}
	c := run(t, smartappmock.WithPushTarget("10001", target))
	adm, err := c.Admin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got, err := adm.Push(t.Context(), "10001")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	if !strings.Contains(string(b), target.URL) {
		t.Errorf("GET /__admin/apps/10001/push = %s, want the URL %s", b, target.URL)
	}
}

func TestRun_PushTarget_UnknownAppIsAnError(t *testing.T) {
	t.Parallel()
	c, err := smartappmock.Run(t.Context(), image, smartappmock.WithPushTarget("no-such-app", config.Push{Config: baidupush.Config{URL: "http://bot.example/", Token: "t"}}))
	testcontainers.CleanupContainer(t, c)
	if err == nil || !strings.Contains(err.Error(), `WithPushTarget("no-such-app")`) {
		t.Errorf("Run = %v, want an error naming WithPushTarget(\"no-such-app\")", err)
	}
}

func TestRun_TLS_TrustsTheFakesCA(t *testing.T) {
	t.Parallel()
	c := run(t, smartappmock.WithTLS())
	u, err := c.HTTPSURL(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.TLSConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
	resp, err := client.Get(u + "/__admin/health")
	if err != nil {
		t.Fatalf("GET %s/__admin/health with the fake's CA: %v", u, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("HTTPS health: HTTP %d", resp.StatusCode)
	}
	if _, err := http.Get(u + "/__admin/health"); err == nil {
		t.Error("the system roots trust the fake's certificate; want an unknown authority")
	}
}

// TestRun_Redis_TwoContainersShareOneWindow runs two fakes on one Redis (REDIS_IMAGE, default
// redis:7.4-alpine) in a network of their own: five replies through the first use up the window,
// and the second answers the sixth with 90001.
func TestRun_Redis_TwoContainersShareOneWindow(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	redisImage := os.Getenv("REDIS_IMAGE")
	if redisImage == "" {
		redisImage = "redis:7.4-alpine"
	}
	nw, err := network.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	testcontainers.CleanupNetwork(t, nw)
	rc, err := testcontainers.Run(ctx, redisImage,
		network.WithNetwork([]string{"redis"}, nw),
		testcontainers.WithCmd("redis-server", "--save", "", "--appendonly", "no"),
		testcontainers.WithWaitStrategy(waitForRedis()),
	)
	testcontainers.CleanupContainer(t, rc)
	if err != nil {
		t.Fatal(err)
	}
	var bases []string
	for range 2 {
		c := run(t, smartappmock.WithRedis("redis://redis:6379/0"), network.WithNetwork(nil, nw))
		bases = append(bases, baseURL(t, c))
	}
	tok := token(t, bases[0], "tc-shared", "tc-secret")
	for i := range 5 {
		if got := send(t, bases[0], tok, "u-shared"); got != ok {
			t.Fatalf("send %d through the first fake = %s", i+1, got)
		}
	}
	if got := send(t, bases[1], tok, "u-shared"); !strings.Contains(got, `"errno":90001`) {
		t.Errorf("sixth send through the second fake = %s, want errno 90001 (one window in Redis)", got)
	}
}

// TestGitHubServicesExample runs the services: example of docs/docker.md as GitHub's runner
// would: the image with the service's environment, the service's health options (and no health
// command of its own: the image's HEALTHCHECK), waiting until the container is healthy, and the
// health command run against it.
func TestGitHubServicesExample(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/docker.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)### As a CI service container.*?```yaml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/docker.md has no yaml block under \"As a CI service container\"")
	}
	var wf struct {
		Jobs map[string]struct {
			Services map[string]struct {
				Image   string            `yaml:"image"`
				Ports   []string          `yaml:"ports"`
				Env     map[string]string `yaml:"env"`
				Options string            `yaml:"options"`
			} `yaml:"services"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(m[1], &wf); err != nil {
		t.Fatalf("the services: example is not YAML: %v", err)
	}
	svc, found := wf.Jobs["test"].Services["smartappmock"]
	if !found {
		t.Fatalf("no jobs.test.services.smartappmock in the example:\n%s", m[1])
	}
	if !slices.Equal(svc.Ports, []string{"127.0.0.1:8080:8080"}) {
		t.Errorf("ports %v, want the loopback 127.0.0.1:8080:8080", svc.Ports)
	}
	opts := strings.Fields(svc.Options)
	health := map[string]string{}
	for i := 0; i+1 < len(opts); i += 2 {
		health[opts[i]] = opts[i+1]
	}
	if _, set := health["--health-cmd"]; set {
		t.Error("the example sets --health-cmd: Docker would run it with /bin/sh, which the image lacks")
	}
	for _, o := range []string{"--health-interval", "--health-timeout"} {
		if _, err := time.ParseDuration(health[o]); err != nil {
			t.Errorf("%s %q: %v", o, health[o], err)
		}
	}

	c := run(t, testcontainers.WithEnv(svc.Env))
	inspect, err := c.Inspect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var test []string
	if hc := inspect.Config.Healthcheck; hc != nil {
		test = hc.Test
	}
	if diff := cmp.Diff([]string{"CMD", "/smartappmock", "healthcheck"}, test); diff != "" {
		t.Fatalf("the image's health check mismatch (-want +got):\n%s", diff)
	}
	code, out, err := c.Exec(t.Context(), test[1:])
	if err != nil || code != 0 {
		b, _ := io.ReadAll(out)
		t.Fatalf("the service's health command %v in the container: exit %d, %v: %s", test[1:], code, err, b)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := c.State(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st.Health != nil && st.Health.Status == "healthy" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service never became healthy: %+v", st.Health)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The admin token of the example's env is in force.
	base := baseURL(t, c)
	get(t, base+"/__admin/requests", http.StatusUnauthorized)
	adm := &admin.Client{BaseURL: base, Token: svc.Env["SMARTAPPMOCK_ADMIN_TOKEN"]}
	if _, err := adm.Requests(t.Context(), store.Query{}); err != nil {
		t.Errorf("admin API with the example's token: %v", err)
	}
}

// waitForRedis waits for redis-server's ready line (the official image's and Debian's).
func waitForRedis() wait.Strategy {
	return wait.ForLog("Ready to accept connections").WithStartupTimeout(30 * time.Second)
}
