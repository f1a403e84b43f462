package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver/mockservertest"
)

// TestServeFlags_Profile: --profile over SMARTAPPMOCK_PROFILE over the file's profile; baidu turns
// the embedded default's leniencies off.
func TestServeFlags_Profile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		args        []string
		env         map[string]string
		wantProfile config.Profile
		wantApps    config.AppPolicy
		wantMagic   bool
	}{
		{name: "NoProfile_DefaultIsSandbox", wantProfile: config.ProfileSandbox, wantApps: config.AppsSandbox, wantMagic: true},
		{name: "FlagBaidu_NoLeniency", args: []string{"--profile", "baidu"}, wantProfile: config.ProfileBaidu, wantApps: config.AppsConfigured},
		{name: "EnvBaidu_NoLeniency", env: map[string]string{"SMARTAPPMOCK_PROFILE": "baidu"}, wantProfile: config.ProfileBaidu, wantApps: config.AppsConfigured},
		{name: "FlagSandboxOverridesEnv", args: []string{"--profile=sandbox"}, env: map[string]string{"SMARTAPPMOCK_PROFILE": "baidu"}, wantProfile: config.ProfileSandbox, wantApps: config.AppsSandbox, wantMagic: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := parseServeFlags("serve", tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := f.loadConfig()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Policy.Profile != tt.wantProfile || cfg.Policy.Apps != tt.wantApps || cfg.Policy.MagicValues != tt.wantMagic {
				t.Errorf("policy = %+v, want profile %s, apps %s, magic values %v", cfg.Policy, tt.wantProfile, tt.wantApps, tt.wantMagic)
			}
		})
	}
}

// TestProfileBaidu_JSONLabelledForm_SameAnswerWithAndWithoutFile: under --profile baidu a form
// labelled application/json gets the same answer on the embedded default and with a user's file
// that does not mention lenient_json.
func TestProfileBaidu_JSONLabelledForm_SameAnswerWithAndWithoutFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "app.yaml")
	if err := os.WriteFile(file, []byte("version: 1\napps:\n  - id: \"10001\"\n    client_id: demo-client-id\n    client_secret: demo-client-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	answer := func(t *testing.T, args ...string) string {
		f, err := parseServeFlags("serve", append([]string{"--profile", "baidu"}, args...), func(string) string { return "" }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := f.loadConfig()
		if err != nil {
			t.Fatal(err)
		}
		s := mockservertest.New(t, cfg)
		c := s.Client()
		get := func(method, url, ctype, body string) string {
			t.Helper()
			req, err := http.NewRequest(method, s.URL+url, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}
		tok := get("GET", "/oauth/2.0/token?grant_type=client_credentials&client_id=demo-client-id&client_secret=demo-client-secret", "", "")
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal([]byte(tok), &tr); err != nil || tr.AccessToken == "" {
			t.Fatalf("token answer %q: %v", tok, err)
		}
		get("POST", "/__admin/apps/10001/users", "application/json", `{"open_id":"user-1"}`) // --profile baidu: issued open_ids only
		get("POST", "/__admin/apps/10001/messages", "application/json", `{"open_id":"user-1"}`)
		return get("POST", "/rest/2.0/smartapp/message/custom/send", "application/json",
			"access_token="+tr.AccessToken+"&user_type=1&open_id=user-1&msg_type=text&content=hi")
	}
	embedded, withFile := answer(t), answer(t, "--config", file)
	if diff := cmp.Diff(embedded, withFile); diff != "" {
		t.Errorf("answer with a file differs from the embedded default's (-embedded +file):\n%s", diff)
	}
	if !strings.Contains(embedded, `"errno":0`) {
		t.Errorf("answer = %s, want a delivered message (the form labelled JSON is read)", embedded)
	}
}
