package mockserver

// testConfig is a strict configuration with two apps.
const testConfig = `
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
