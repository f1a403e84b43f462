package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/smartappmock/smartappmock/internal/testenv"
)

// The deployment files of docs/scale-out.md: the Kubernetes manifests in deploy/k8s and the
// compose file docker-compose.scale.yml with its HAProxy configuration. These tests read them
// as the cluster or compose would and check that the pieces fit: probes on the right routes and
// ports, selectors that select, a store URL that names the Redis service, and settings that
// serve knows.

// k8sContainer is the part of a container these tests read.
type k8sContainer struct {
	Name  string `yaml:"name"`
	Image string `yaml:"image"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
	LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
}

// k8sProbe is the part of a probe these tests read.
type k8sProbe struct {
	HTTPGet *struct {
		Path string    `yaml:"path"`
		Port yaml.Node `yaml:"port"`
	} `yaml:"httpGet"`
}

// k8sObject is a Deployment or a Service, as far as these tests read them.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		// Deployment
		Replicas *int `yaml:"replicas"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				Containers []k8sContainer `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
		// Deployment: {matchLabels: …}; Service: the labels themselves.
		Selector yaml.Node `yaml:"selector"`
		// Service
		Ports []struct {
			Port       int       `yaml:"port"`
			TargetPort yaml.Node `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

// readK8s reads every document of deploy/k8s/*.yaml, by kind and name ("Deployment/redis").
func readK8s(t *testing.T) map[string]k8sObject {
	t.Helper()
	files, err := filepath.Glob("../../deploy/k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/k8s: %v", err)
	}
	objs := map[string]k8sObject{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var o k8sObject
			if err := dec.Decode(&o); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			key := o.Kind + "/" + o.Metadata.Name
			if _, dup := objs[key]; dup {
				t.Errorf("%s: %s is defined twice", f, key)
			}
			objs[key] = o
		}
	}
	return objs
}

// selector returns a Deployment's matchLabels or a Service's selector.
func (o k8sObject) selector(t *testing.T) map[string]string {
	t.Helper()
	var sel struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	if o.Kind == "Deployment" {
		if err := o.Spec.Selector.Decode(&sel); err != nil {
			t.Fatalf("%s/%s selector: %v", o.Kind, o.Metadata.Name, err)
		}
		return sel.MatchLabels
	}
	var labels map[string]string
	if err := o.Spec.Selector.Decode(&labels); err != nil {
		t.Fatalf("%s/%s selector: %v", o.Kind, o.Metadata.Name, err)
	}
	return labels
}

// selects reports whether every label of sel is on labels (and sel is not empty).
func selects(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return len(sel) > 0
}

// resolve returns the container port number that p (a probe's port or a Service's targetPort)
// names, by number or by name; 0 when none.
func (c k8sContainer) resolve(p yaml.Node) int {
	for _, cp := range c.Ports {
		if p.Value == cp.Name || p.Value == strconv.Itoa(cp.ContainerPort) {
			return cp.ContainerPort
		}
	}
	return 0
}

// serveEnvNames returns the environment variables that serve -h names.
func serveEnvNames(t *testing.T) []string {
	t.Helper()
	var help strings.Builder
	_ = run(t.Context(), []string{"serve", "-h"}, func(string) string { return "" }, &help, &help)
	names := regexp.MustCompile(`SMARTAPPMOCK_[A-Z_]+`).FindAllString(help.String(), -1)
	if len(names) < 5 {
		t.Fatalf("serve -h names %d variables:\n%s", len(names), help.String())
	}
	return names
}

// checkRedisStoreURL checks that a SMARTAPPMOCK_STORE value is a Redis URL whose host is the service
// redisHost and whose port is redisPort.
func checkRedisStoreURL(t *testing.T, where, raw, redisHost string, redisPort int) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "redis" {
		t.Errorf("%s: SMARTAPPMOCK_STORE %q is not a redis:// URL", where, raw)
		return
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host != redisHost || port != strconv.Itoa(redisPort) {
		t.Errorf("%s: SMARTAPPMOCK_STORE %q does not name the Redis service %s:%d", where, raw, redisHost, redisPort)
	}
}

func TestDeploy_Kubernetes(t *testing.T) {
	t.Parallel()
	objs := readK8s(t)
	dep, ok := objs["Deployment/smartappmock"]
	if !ok {
		t.Fatalf("deploy/k8s has no Deployment smartappmock (has %v)", keys(objs))
	}
	if len(dep.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("Deployment smartappmock has %d containers, want 1", len(dep.Spec.Template.Spec.Containers))
	}
	c := dep.Spec.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	redisSvc, redisDep := objs["Service/redis"], objs["Deployment/redis"]
	svc := objs["Service/smartappmock"]
	serveEnv := serveEnvNames(t)

	for _, tc := range []struct {
		name string
		ok   func(t *testing.T) bool
	}{
		{"ThreeReplicas", func(t *testing.T) bool { return dep.Spec.Replicas != nil && *dep.Spec.Replicas == 3 }},
		{"DeploymentSelectsItsPods", func(t *testing.T) bool { return selects(dep.selector(t), dep.Spec.Template.Metadata.Labels) }},
		{"ListensOnContainerPort8080", func(t *testing.T) bool {
			return env["SMARTAPPMOCK_ADDR"] == "0.0.0.0:8080" && c.resolve(yaml.Node{Value: "8080"}) == 8080
		}},
		{"ReadinessOnAdminReady", func(t *testing.T) bool {
			p := c.ReadinessProbe
			return p != nil && p.HTTPGet != nil && p.HTTPGet.Path == "/__admin/ready" && c.resolve(p.HTTPGet.Port) == 8080
		}},
		{"LivenessOnAdminHealth", func(t *testing.T) bool {
			p := c.LivenessProbe
			return p != nil && p.HTTPGet != nil && p.HTTPGet.Path == "/__admin/health" && c.resolve(p.HTTPGet.Port) == 8080
		}},
		{"ServiceSelectsThePodsOnPort8080", func(t *testing.T) bool {
			return svc.Kind == "Service" && selects(svc.selector(t), dep.Spec.Template.Metadata.Labels) &&
				len(svc.Spec.Ports) == 1 && c.resolve(svc.Spec.Ports[0].TargetPort) == 8080
		}},
		{"RedisServiceSelectsTheRedisPodsOn6379", func(t *testing.T) bool {
			if redisSvc.Kind != "Service" || redisDep.Kind != "Deployment" || len(redisDep.Spec.Template.Spec.Containers) != 1 || len(redisSvc.Spec.Ports) != 1 {
				return false
			}
			rc := redisDep.Spec.Template.Spec.Containers[0]
			return selects(redisSvc.selector(t), redisDep.Spec.Template.Metadata.Labels) &&
				!selects(svc.selector(t), redisDep.Spec.Template.Metadata.Labels) &&
				rc.resolve(redisSvc.Spec.Ports[0].TargetPort) == 6379
		}},
		{"StoreIsTheRedisService", func(t *testing.T) bool {
			if len(redisSvc.Spec.Ports) != 1 {
				return false
			}
			checkRedisStoreURL(t, "Deployment/smartappmock", env["SMARTAPPMOCK_STORE"], redisSvc.Metadata.Name, redisSvc.Spec.Ports[0].Port)
			return true
		}},
		{"EveryVariableIsAServeSetting", func(t *testing.T) bool {
			for name := range env {
				if !slices.Contains(serveEnv, name) {
					t.Errorf("the container sets %s, which serve does not read", name)
				}
			}
			return true
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok(t) {
				t.Errorf("deploy/k8s: not %s", tc.name)
			}
		})
	}
}

// composeFile is the part of a compose file these tests read.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Ports       []string          `yaml:"ports"`
		Command     []string          `yaml:"command"`
	} `yaml:"services"`
}

func TestDeploy_ComposeScale(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../docker-compose.scale.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(data, &cf); err != nil {
		t.Fatalf("docker-compose.scale.yml: %v", err)
	}
	haproxy, err := os.ReadFile("../../deploy/compose/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	serveEnv := serveEnvNames(t)
	var replicas []string
	for name, s := range cf.Services {
		if s.Environment["SMARTAPPMOCK_STORE"] != "" {
			replicas = append(replicas, name)
		}
	}
	slices.Sort(replicas)
	if !slices.Equal(replicas, []string{"replica1", "replica2", "replica3"}) {
		t.Fatalf("replicas (services with SMARTAPPMOCK_STORE) %v, want replica1..3", replicas)
	}
	if _, ok := cf.Services["redis"]; !ok {
		t.Fatal("no redis service")
	}
	for _, name := range replicas {
		s := cf.Services[name]
		t.Run(name, func(t *testing.T) {
			checkRedisStoreURL(t, name, s.Environment["SMARTAPPMOCK_STORE"], "redis", 6379)
			for k := range s.Environment {
				if !slices.Contains(serveEnv, k) {
					t.Errorf("%s sets %s, which serve does not read", name, k)
				}
			}
			if !regexp.MustCompile(`(?m)^\s*server \S+ ` + name + `:8080 check\b`).Match(haproxy) {
				t.Errorf("haproxy.cfg does not check %s:8080", name)
			}
		})
	}
	if !regexp.MustCompile(`(?m)^\s*http-check send meth GET uri /__admin/ready\b`).Match(haproxy) {
		t.Error("haproxy.cfg does not check the replicas' readiness (/__admin/ready)")
	}
	lb := cf.Services["lb"]
	if !slices.Contains(lb.Volumes, "./deploy/compose/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro") || !slices.Contains(lb.Ports, "127.0.0.1:${SMARTAPPMOCK_PORT:-8080}:8080") {
		t.Errorf("the lb service does not mount haproxy.cfg or publish 127.0.0.1:8080: %+v", lb)
	}
}

// TestDeploy_ComposeScaleIsValid: docker-compose (no engine needed) accepts
// docker-compose.scale.yml, as it does docker-compose.yml in scripts/container-test.sh.
func TestDeploy_ComposeScaleIsValid(t *testing.T) {
	t.Parallel()
	bin := testenv.Require(t, "docker-compose", "apt-get install docker-compose")
	cmd := exec.Command(bin, "-f", "docker-compose.scale.yml", "config", "--quiet")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("docker-compose -f docker-compose.scale.yml config: %v\n%s", err, out)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestGitHubWorkflow_RunsCI: the workflow in .github/workflows runs the one CI command,
// `bash .ci/run`, with CI=true, as root (setup.d installs packages and runs podman).
func TestGitHubWorkflow_RunsCI(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../.github/workflows/ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		On   yaml.Node `yaml:"on"`
		Jobs map[string]struct {
			RunsOn string `yaml:"runs-on"`
			Steps  []struct {
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				Env  map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf(".github/workflows/ci.yml: %v", err)
	}
	if len(wf.Jobs) != 1 {
		t.Fatalf("want one job, got %d", len(wf.Jobs))
	}
	for name, job := range wf.Jobs {
		if !strings.HasPrefix(job.RunsOn, "ubuntu-") {
			t.Errorf("job %s runs on %q, want an ubuntu runner (apt-get, podman)", name, job.RunsOn)
		}
		var runs []string
		for _, s := range job.Steps {
			if s.Run != "" {
				runs = append(runs, s.Run)
				if !strings.HasPrefix(s.Run, "sudo ") || !strings.HasSuffix(s.Run, "bash .ci/run") || s.Env["CI"] != "true" {
					t.Errorf("step %q: want `sudo … bash .ci/run` with CI=true", s.Run)
				}
			}
		}
		if len(runs) != 1 {
			t.Errorf("job %s runs %q, want exactly the one command bash .ci/run", name, runs)
		}
	}
}

// TestDocs_GitHubServicesExample: the services: example of docs/docker.md parses, publishes on
// loopback, and keeps the image's own health check (a --health-cmd string would need a shell the
// image lacks). The testcontainers module's TestGitHubServicesExample runs it against the image.
func TestDocs_GitHubServicesExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../docs/docker.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)### As a CI service container.*?```yaml\n(.*?)```").FindSubmatch(data)
	if m == nil {
		t.Fatal("docs/docker.md has no yaml block under \"As a CI service container\"")
	}
	var wf struct {
		Jobs map[string]struct {
			Services map[string]struct {
				Image   string   `yaml:"image"`
				Ports   []string `yaml:"ports"`
				Options string   `yaml:"options"`
			} `yaml:"services"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(m[1], &wf); err != nil {
		t.Fatalf("the services: example: %v", err)
	}
	svc, ok := wf.Jobs["test"].Services["smartappmock"]
	if !ok {
		t.Fatal("no jobs.test.services.smartappmock")
	}
	if !slices.Equal(svc.Ports, []string{"127.0.0.1:8080:8080"}) || strings.Contains(svc.Options, "--health-cmd") ||
		!strings.Contains(svc.Options, "--health-interval") {
		t.Errorf("service %+v: want ports [127.0.0.1:8080:8080], --health-interval and no --health-cmd", svc)
	}
}
