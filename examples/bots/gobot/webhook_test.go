package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock/contract/webhook"
)

// TestBot_WebhookKit runs the webhook contract kit against the bot in process, as an
// http.Handler: every case passes, the 90001 case against the kit's real fake included.
func TestBot_WebhookKit(t *testing.T) {
	t.Parallel()
	var b *bot
	rep := webhook.Run(t, func(e webhook.Env) http.Handler {
		env := map[string]string{}
		for _, kv := range e.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		cfg, err := configFromEnv(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		b = newBot(cfg, &http.Client{}, t.Logf)
		return b
	})
	b.replies.Wait()
	if failed := rep.Failed(""); len(failed) != 0 {
		t.Errorf("failed cases %v", failed)
	}
}
