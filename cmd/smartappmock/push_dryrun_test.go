package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/internal/testenv"
)

// TestPushDryRun_CurlAccepted runs the curl command that push --dry-run prints, in a shell,
// against a bot that verifies the signature (and decrypts): the bot acknowledges it and reads the
// message that went in, in every mode, format and envelope.
func TestPushDryRun_CurlAccepted(t *testing.T) {
	t.Parallel()
	needCurl(t)
	sh := testenv.Require(t, "sh", "apt-get install dash (or any POSIX sh)")
	const token, key, clientID = "my-push-token", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "demo-client-id"
	for _, tc := range []struct {
		name string
		args []string
		want string // the decoded message: FromUserName, MsgType, Content or PicUrl
	}{
		{"PlainXML_Text", []string{"--format", "xml", "text", "it's <b>&]]> here"}, "user-1 text it's <b>&]]> here"},
		{"PlainJSON_Image", []string{"--format", "json", "image", "https://example.com/a.png"}, "user-1 image https://example.com/a.png"},
		{"SecureJSON_Query", []string{"--mode", "secure", "--format", "json", "--aes-key", key, "--client-id", clientID, "text", "你好"}, "user-1 text 你好"},
		{"SecureXML_BodyEnvelope", []string{"--mode", "secure", "--format", "xml", "--envelope", "body", "--aes-key", key, "--client-id", clientID, "text", "hi"}, "user-1 text hi"},
		{"CompatibleJSON_EventFromOtherUser", []string{"--mode", "compatible", "--format", "json", "--aes-key", key, "--client-id", clientID, "--set", "FromUserName=user-9", "event", "user_enter_tempsession"}, "user-9 event "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var got []string
			bot := httptest.NewServer(pushBotHandler(token, key, clientID, func(o baidupush.Opened) {
				mu.Lock()
				defer mu.Unlock()
				m := o.Message
				got = append(got, m.FromUserName+" "+m.MsgType+" "+m.Content+m.PicURL)
			}))
			defer bot.Close()
			args := append([]string{"push", "--dry-run", "--url", bot.URL + "/", "--token", token, "--app", "10001"}, tc.args...)
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr); err != nil {
				t.Fatalf("push --dry-run: %v\n%s", err, stderr.String())
			}
			if !strings.HasPrefix(stdout.String(), "curl -sS -X POST '") || strings.Count(stdout.String(), "\n") != 1 {
				t.Fatalf("push --dry-run printed %q; want one curl command", stdout.String())
			}
			cmd := exec.Command(sh, "-c", stdout.String())
			cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no proxy settings from the developer
			out, err := cmd.CombinedOutput()
			if err != nil || string(out) != "success" {
				t.Fatalf("the curl command: %v, answer %q; want success\ncommand: %s", err, out, stdout.String())
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("the bot read %q; want [%q]", got, tc.want)
			}
		})
	}
}

func TestPushDryRun_UsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"NoURL", []string{"--token", "t", "text", "hi"}, "--url and --token are required"},
		{"SecureWithoutClientID", []string{"--url", "http://127.0.0.1:1/", "--token", "t", "--mode", "secure", "--aes-key", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "text", "hi"}, "--client-id is required in secure mode"},
		{"ShortKey", []string{"--url", "http://127.0.0.1:1/", "--token", "t", "--mode", "secure", "--aes-key", "short", "--client-id", "c", "text", "hi"}, "encoding_aes_key: 5 characters"},
		{"BadMode", []string{"--url", "http://127.0.0.1:1/", "--token", "t", "--mode", "safe", "text", "hi"}, `mode: "safe"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{"push", "--dry-run", "--app", "10001"}, tc.args...), func(string) string { return "" }, &stdout, &stderr)
			if _, ok := err.(usageError); !ok || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want a usage error containing %q", err, tc.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q; want nothing", stdout.String())
			}
		})
	}
}
