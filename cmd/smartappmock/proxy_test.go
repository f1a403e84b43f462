package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/internal/testenv"
)

// startServeLines runs "serve" with args and returns the first n lines it prints and a function
// that stops it and returns run's error.
func startServeLines(t *testing.T, n int, args ...string) ([]string, func() error) {
	t.Helper()
	lines, _, stop := runServe(t, n, nil, append([]string{"serve"}, args...))
	return lines, stop
}

func findAddr(t *testing.T, lines []string, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(strings.Join(lines, "\n"))
	if m == nil {
		t.Fatalf("no %s in %q", re, lines)
	}
	return m[1]
}

// TestProxy_UnmodifiedGoProgram builds a program that calls https://openapi.baidu.com with the
// standard http.Client and runs it with nothing but HTTPS_PROXY and SSL_CERT_FILE in its
// environment: it gets the fake's answers, faults included.
func TestProxy_UnmodifiedGoProgram(t *testing.T) {
	testenv.SkipIfShort(t, "builds testdata/sdkclient with go build")
	dir := t.TempDir()
	bin := filepath.Join(dir, "sdkclient")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/sdkclient").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	caFile := filepath.Join(dir, "ca.pem")
	lines, stop := startServeLines(t, 2, "--addr", "127.0.0.1:0", "--write-ca", caFile)
	addr := findAddr(t, lines, `HTTPS_PROXY=http://(\S+)`)
	tests := []struct {
		openID, want string
		wantErr      bool
	}{
		{"u1", `200 {"errno":0,"msg":"success"}`, false},
		{"errno_90002", `200 {"errno":90002,"msg":"请确认小程序已开通客服能力","data":{}}`, false},
		{"fault_http_503", "503 <html>", false},
		{"fault_reset", "connection reset by peer", true},
	}
	for _, tc := range tests {
		t.Run(tc.openID, func(t *testing.T) {
			cmd := exec.Command(bin, tc.openID)
			cmd.Env = []string{"HTTPS_PROXY=http://" + addr, "SSL_CERT_FILE=" + caFile}
			out, err := cmd.CombinedOutput()
			if (err != nil) != tc.wantErr || !strings.Contains(string(out), tc.want) {
				t.Errorf("sdkclient %s: err %v, output %q; want %q", tc.openID, err, out, tc.want)
			}
		})
	}
	// Without the CA, the same program refuses the fake's certificate.
	cmd := exec.Command(bin, "u1")
	cmd.Env = []string{"HTTPS_PROXY=http://" + addr, "SSL_CERT_FILE=" + filepath.Join(dir, "missing.pem")}
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "certificate") {
		t.Errorf("without the CA: err %v, output %q; want a certificate error", err, out)
	}
	if err := stop(); err != nil {
		t.Errorf("serve returned %v", err)
	}
}

// needCurl skips the test without curl 7.87 or later (which examples/shell/send.sh needs for
// --url-query), or fails it under CI=true.
func needCurl(t *testing.T) {
	t.Helper()
	testenv.RequireVersion(t, "curl", "--version", 7, 87, "apt-get install curl, version 7.87 or later")
}

func curl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("curl", append([]string{"-sS", "--max-time", "10", "--noproxy", ""}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no proxy or CA settings from the developer
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestProxy_Curl drives the proxy and the HTTPS listener with curl -x … --cacert ….
func TestProxy_Curl(t *testing.T) {
	needCurl(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	lines, stop := startServeLines(t, 3, "--addr", "127.0.0.1:0", "--tls", "--tls-addr", "127.0.0.1:0", "--write-ca", caFile)
	proxy := "http://" + findAddr(t, lines, `HTTPS_PROXY=http://(\S+)`)
	httpsURL := findAddr(t, lines, `HTTPS on (https://\S+)`)
	httpURL := findAddr(t, lines, `listening on (http://\S+)`)

	tokenURL := "https://openapi.baidu.com/oauth/2.0/token?grant_type=client_credentials&client_id=demo-client-id&client_secret=demo-client-secret"
	out, err := curl(t, "-x", proxy, "--cacert", caFile, tokenURL)
	tok := regexp.MustCompile(`"access_token":"([^"]+)"`).FindStringSubmatch(out)
	if err != nil || tok == nil {
		t.Fatalf("token through the proxy: %v %s", err, out)
	}
	send := "https://openapi.baidu.com/rest/2.0/smartapp/message/custom/send?access_token=" + tok[1]
	form := []string{"-d", "user_type=1", "-d", "open_id=u1", "-d", "msg_type=text", "-d", "content=hi"}

	tests := []struct {
		name    string
		args    []string
		want    string
		wantErr bool
	}{
		{"HTTPSProxy_Send", append([]string{"-x", proxy, "--cacert", caFile, send}, form...), `{"errno":0,"msg":"success"}`, false},
		{"HTTPSProxy_NoCA", append([]string{"-x", proxy, send}, form...), "certificate", true},
		{"HTTPSProxy_OtherHostRefused", []string{"-x", proxy, "https://example.com/"}, "403", true},
		{"PlainHTTPProxy_Send", append([]string{"-x", proxy, strings.Replace(send, "https://", "http://", 1)}, form...), `{"errno":0,"msg":"success"}`, false},
		{"PlainHTTPProxy_OtherHostRefused", []string{"-x", proxy, "http://example.com/"}, "answers only for openapi.baidu.com", false},
		{"TLSListener_Health", []string{"--cacert", caFile, httpsURL + "/__admin/health"}, `"status": "ok"`, false},
		{"TLSListener_AsBaidu", append([]string{"--cacert", caFile, "--connect-to", "openapi.baidu.com:443:" + strings.TrimPrefix(httpsURL, "https://"), send}, form...), `{"errno":0`, false},
		{"HTTPSProxy_Fault503", []string{"-x", proxy, "--cacert", caFile, "-w", "%{http_code}", "-o", "/dev/null", send, "-d", "open_id=fault_http_503"}, "503", false},
		{"AdminCA", []string{httpURL + "/__admin/ca"}, "-----BEGIN CERTIFICATE-----", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := curl(t, tc.args...)
			if (err != nil) != tc.wantErr || !strings.Contains(out, tc.want) {
				t.Errorf("curl %q: err %v, output %q; want %q", tc.args, err, out, tc.want)
			}
		})
	}

	// "smartappmock ca" prints the running fake's CA: the same as --write-ca wrote.
	var caOut strings.Builder
	if err := run(context.Background(), []string{"ca", "--addr", strings.TrimPrefix(httpURL, "http://")}, func(string) string { return "" }, &caOut, io.Discard); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(caFile)
	if diff := cmp.Diff(string(want), caOut.String()); diff != "" {
		t.Errorf("smartappmock ca (-written +printed):\n%s", diff)
	}
	if err := stop(); err != nil {
		t.Errorf("serve returned %v", err)
	}
}

// TestServe_LoadsCAFiles serves with a CA made by "ca new": clients trust the files.
func TestServe_LoadsCAFiles(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	var out strings.Builder
	if err := run(context.Background(), []string{"ca", "new", "--cert", cert, "--key", key}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v, want mode 0600", err, st)
	}
	lines, stop := startServeLines(t, 2, "--addr", "127.0.0.1:0", "--ca-cert", cert, "--ca-key", key)
	var served strings.Builder
	if err := run(context.Background(), []string{"ca", "--addr", findAddr(t, lines, `HTTPS_PROXY=http://(\S+)`)}, func(string) string { return "" }, &served, io.Discard); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(cert)
	if diff := cmp.Diff(string(want), served.String()); diff != "" {
		t.Errorf("served CA (-file +served):\n%s", diff)
	}
	if err := stop(); err != nil {
		t.Errorf("serve returned %v", err)
	}
}

// TestREADMEFaults checks the fault reference (docs/faults.md) against the code: its configuration
// example parses, and its kinds table and magic values name every kind.
func TestREADMEFaults(t *testing.T) {
	section := docSection(t, "docs/faults.md", "faults-and-proxy")
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindStringSubmatch(section)
	if m == nil {
		t.Fatal("no yaml block in the faults-and-proxy section")
	}
	c, err := config.Parse("docs/faults.md", []byte(m[1]))
	if err != nil {
		t.Fatalf("the fault example does not parse: %v", err)
	}
	if len(c.Faults) != 4 || len(c.Apps[0].Faults) != 1 {
		t.Errorf("parsed example: %d faults, %d app faults; want 4 and 1", len(c.Faults), len(c.Apps[0].Faults))
	}
	for _, k := range config.FaultKinds() {
		if !strings.Contains(section, "`"+string(k)+"`") && !strings.Contains(section, string(k)+"`, `") {
			t.Errorf("the README's kinds table lacks %s", k)
		}
		if !strings.Contains(section, "`fault_"+string(k)+"`") && !strings.HasPrefix(string(k), "http_5") {
			t.Errorf("the README's magic values lack fault_%s", k)
		}
	}
}
