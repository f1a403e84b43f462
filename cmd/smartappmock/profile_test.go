package main

import (
	"io"
	"testing"

	"github.com/smartappmock/smartappmock/config"
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
