package main

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTokenFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAdminTokenSource_Resolve(t *testing.T) {
	t.Parallel()
	file := writeTokenFile(t, "from-file\n")
	otherFile := writeTokenFile(t, "  from-env-file \r\n")
	tests := []struct {
		name         string
		src          adminTokenSource
		want         string
		wantFromFlag bool
		wantErr      string
		wantUsage    bool
	}{
		{name: "NoneGiven_NoToken"},
		{name: "EnvToken", src: adminTokenSource{envToken: "env"}, want: "env"},
		{name: "EnvFile_TrimmedContent", src: adminTokenSource{envFile: otherFile}, want: "from-env-file"},
		{name: "FileFlag_WinsOverEnv", src: adminTokenSource{file: file, fileSet: true, envToken: "env"}, want: "from-file"},
		{name: "TokenFlag_FromFlag", src: adminTokenSource{flag: "flag", flagSet: true, envFile: otherFile}, want: "flag", wantFromFlag: true},
		{name: "EmptyTokenFlag_NoTokenNoWarning", src: adminTokenSource{flag: "", flagSet: true, envToken: "env"}},
		{name: "BothFlags_UsageError", src: adminTokenSource{flag: "x", flagSet: true, file: file, fileSet: true},
			wantErr: "--admin-token and --admin-token-file go alone", wantUsage: true},
		{name: "BothVariables_UsageError", src: adminTokenSource{envToken: "x", envFile: file},
			wantErr: "SMARTAPPMOCK_ADMIN_TOKEN and SMARTAPPMOCK_ADMIN_TOKEN_FILE are both set", wantUsage: true},
		{name: "EmptyFileFlag_UsageError", src: adminTokenSource{fileSet: true}, wantErr: "--admin-token-file is empty", wantUsage: true},
		{name: "MissingFile_NamesTheSetting", src: adminTokenSource{envFile: filepath.Join(t.TempDir(), "nope")},
			wantErr: "SMARTAPPMOCK_ADMIN_TOKEN_FILE: open "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fromFlag, err := tt.src.resolve()
			if tt.wantErr != "" {
				var ue usageError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &ue) != tt.wantUsage {
					t.Fatalf("resolve() error = %v, want one with %q (usage error: %v)", err, tt.wantErr, tt.wantUsage)
				}
				return
			}
			if err != nil || got != tt.want || fromFlag != tt.wantFromFlag {
				t.Errorf("resolve() = %q, %v, %v; want %q, %v", got, fromFlag, err, tt.want, tt.wantFromFlag)
			}
		})
	}
}

func TestReadAdminTokenFile_RefusesWhatIsNotOneToken(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, content, want string }{
		{"Empty", "", "is empty"},
		{"OnlyNewline", "\n", "is empty"},
		{"TwoWords", "secret other\n", "holds more than one token"},
		{"TwoLines", "secret\nother\n", "holds more than one token"},
		{"TooLarge", strings.Repeat("a", maxAdminTokenFile+1), "larger than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAdminTokenFile("--admin-token-file", writeTokenFile(t, tt.content))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error shows the file's content: %v", err)
			}
		})
	}
}

// TestServe_AdminTokenFile_GuardsTheAdminAPI runs serve with each source of the token: the API
// wants it, and only --admin-token logs the warning about ps.
func TestServe_AdminTokenFile_GuardsTheAdminAPI(t *testing.T) {
	file := writeTokenFile(t, "file-token\n")
	tests := []struct {
		name        string
		args        []string
		env         map[string]string
		token       string
		wantWarning bool
	}{
		{"FileFlag", []string{"--admin-token-file", file}, nil, "file-token", false},
		{"FileVariable", nil, map[string]string{"SMARTAPPMOCK_ADMIN_TOKEN_FILE": file}, "file-token", false},
		{"Variable", nil, map[string]string{"SMARTAPPMOCK_ADMIN_TOKEN": "env-token"}, "env-token", false},
		{"Flag_Warns", []string{"--admin-token", "flag-token"}, nil, "flag-token", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, stderr, stop := startServe(t, append([]string{"--addr", "127.0.0.1:0"}, tt.args...), tt.env)
			for _, auth := range []struct {
				header string
				want   int
			}{{"", http.StatusUnauthorized}, {"Bearer wrong", http.StatusUnauthorized}, {"Bearer " + tt.token, http.StatusOK}} {
				req, _ := http.NewRequest(http.MethodGet, base+"/__admin/requests", nil)
				if auth.header != "" {
					req.Header.Set("Authorization", auth.header)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != auth.want {
					t.Errorf("Authorization %q: HTTP %d, want %d", auth.header, resp.StatusCode, auth.want)
				}
			}
			if err := stop(); err != nil {
				t.Errorf("serve: %v", err)
			}
			log := stderr.String()
			if got := strings.Contains(log, "can read in the process list (ps)"); got != tt.wantWarning {
				t.Errorf("warning about ps logged: %v, want %v\n%s", got, tt.wantWarning, log)
			}
			if strings.Contains(log, tt.token) {
				t.Errorf("the log shows the token:\n%s", log)
			}
		})
	}
}

// TestServe_WrongAdminTokenLoggedAndCounted: a wrong token on the inbox's login form is a WARN
// line on stderr (without the token) and a count in /metrics.
func TestServe_WrongAdminTokenLoggedAndCounted(t *testing.T) {
	base, stderr, stop := startServe(t, []string{"--addr", "127.0.0.1:0"}, map[string]string{"SMARTAPPMOCK_ADMIN_TOKEN": "right-token"})
	resp, err := http.PostForm(base+"/__admin/ui/login", url.Values{"token": {"wrong-guess"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("login with a wrong token: %d, want 401", resp.StatusCode)
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `smartappmock_admin_login_failures_total{kind="wrong",via="login_form"} 1`+"\n") {
		t.Errorf("/metrics does not count the failure:\n%s", grepLines(string(metrics), "admin_login"))
	}
	if err := stop(); err != nil {
		t.Errorf("serve: %v", err)
	}
	log := stderr.String()
	if !strings.Contains(log, `level=WARN msg="admin API: wrong admin token" client=127.0.0.1 via=login_form method=POST path=/__admin/ui/login failures=1`) {
		t.Errorf("no log line for the failure:\n%s", log)
	}
	if strings.Contains(log, "wrong-guess") || strings.Contains(log, "right-token") {
		t.Errorf("the log shows a token:\n%s", log)
	}
}

func grepLines(text, substr string) string {
	var out []string
	for l := range strings.SplitSeq(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
