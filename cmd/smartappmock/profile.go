package main

import (
	"fmt"
	"strings"

	"github.com/smartappmock/smartappmock/config"
)

// checkProfile refuses an unknown --profile (or SMARTAPPMOCK_PROFILE) with the profiles there are.
func checkProfile(source, p string) error {
	if p == "" || config.Profile(p).Known() {
		return nil
	}
	return usageError{fmt.Sprintf("%s: unknown profile %q (want %s or %s)", source, p, config.ProfileSandbox, config.ProfileBaidu)}
}

// loadConfig reads the configuration of serve and switches it to --profile when one was given:
// --profile baidu turns the leniencies of the file (or of the embedded default) off.
func (f serveFlags) loadConfig() (*config.Config, error) {
	cfg, err := loadConfig(f.configFile)
	if err != nil || f.profile == "" {
		return cfg, err
	}
	return cfg, cfg.SetProfile(config.Profile(f.profile))
}

// profileLine says what the profile of a configuration sets, for `config check` and the start.
func profileLine(p config.Profile) string {
	if s := p.Settings(); len(s) > 0 {
		return fmt.Sprintf("profile %s sets %s", p, strings.Join(s, ", "))
	}
	return fmt.Sprintf("profile %s: the policy applies as written; every answer Baidu would not give carries an X-Smartappmock-Warning header", p)
}
