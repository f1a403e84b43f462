// Package configtest holds the configuration that the tests of several packages share, and a
// helper that parses a test's configuration with config.Parse, like any file. It is for tests
// only.
package configtest

import (
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock/config"
)

// Strict is a strict configuration: configured apps, issued tokens, the window of the real service
// (a user message first, 5 replies in 48h) and magic values on, with three apps:
//
//   - 1001 (client key-a, token static-token-a): user-a wrote; user-of-b belongs to another app;
//   - 1002 (key-b, static-token-b): knows only user-b and user-b2, user-b wrote, and it has no
//     customer-service capability;
//   - 1003 (key-c, static-token-c): 3 sends a day and 2 a second; user-c wrote.
const Strict = `
version: 1
policy:
  apps: configured
  tokens: issued
  window: {mode: require_user_message, duration: 48h, max_replies: 5}
  magic_values: true
apps:
  - id: "1001"
    client_id: key-a
    client_secret: secret-a
    tokens: [static-token-a]
    user_messages: [user-a]
    foreign_open_ids: [user-of-b]
  - id: "1002"
    client_id: key-b
    client_secret: secret-b
    tokens: [static-token-b]
    open_ids: [user-b, user-b2]
    user_messages: [user-b]
    capability: false
  - id: "1003"
    client_id: key-c
    client_secret: secret-c
    tokens: [static-token-c]
    limits: {daily: 3, qps: 2}
    user_messages: [user-c]
`

// Parse parses yaml with config.Parse, under the test's name, and fails the test when it does not
// parse.
func Parse(t testing.TB, yaml string) *config.Config {
	t.Helper()
	name := strings.ReplaceAll(t.Name(), "/", "_") + ".yaml"
	cfg, err := config.Parse(name, []byte(yaml))
	if err != nil {
		t.Fatalf("configtest: %v", err)
	}
	return cfg
}
