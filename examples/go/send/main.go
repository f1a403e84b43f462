// Command send delivers one customer-service message with package sender, configured by the same
// environment variables as the other example clients (SMARTAPP_BASE_URL, SMARTAPP_CLIENT_ID,
// SMARTAPP_CLIENT_SECRET, SMARTAPP_USER_TYPE, SMARTAPP_OPEN_ID, SMARTAPP_MSG_TYPE, SMARTAPP_CONTENT,
// SMARTAPP_PIC_URL, SMARTAPP_TOKEN_CACHE). It exits 0 when the message was delivered and 1 when not,
// and prints the code it saw as the last line of stdout: {"errno":0}, {"errno":90001} or
// {"error_code":110}. With SMARTAPP_TEMPLATE_ID and SMARTAPP_SUBSCRIBE_ID (the user's consent) it
// falls back to that subscribe message when the send answers 90001, and with SMARTAPP_CHECK_TEXT=1
// it checks the text first (sender.Reply): the contract kit's messages family.
//
//	go build -o send ./examples/go/send
//	smartappmock contract run -- ./send
//	smartappmock contract run --family messages -- ./send
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock/examples/go/sender"
)

func main() {
	os.Exit(run(context.Background(), os.Getenv))
}

// tokenCache is the SMARTAPP_TOKEN_CACHE file: "<token> <unix expiry>".
type tokenCache string

func (c tokenCache) load() (string, time.Time) {
	if c == "" {
		return "", time.Time{}
	}
	data, err := os.ReadFile(string(c))
	if err != nil {
		return "", time.Time{}
	}
	tok, exp, _ := strings.Cut(strings.TrimSpace(string(data)), " ")
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return "", time.Time{}
	}
	return tok, time.Unix(n, 0)
}

func (c tokenCache) save(tok string, exp time.Time) {
	if c == "" || tok == "" {
		return
	}
	tmp := string(c) + ".tmp"
	if os.WriteFile(tmp, []byte(tok+" "+strconv.FormatInt(exp.Unix(), 10)+"\n"), 0o600) == nil {
		_ = os.Rename(tmp, string(c))
	}
}

func run(ctx context.Context, getenv func(string) string) int {
	c := sender.New(getenv("SMARTAPP_BASE_URL"), getenv("SMARTAPP_CLIENT_ID"), getenv("SMARTAPP_CLIENT_SECRET"))
	cache := tokenCache(getenv("SMARTAPP_TOKEN_CACHE"))
	c.SetToken(cache.load())
	userType, _ := strconv.Atoi(getenv("SMARTAPP_USER_TYPE"))
	var consent *sender.Consent
	if t := getenv("SMARTAPP_TEMPLATE_ID"); t != "" {
		consent = &sender.Consent{TemplateID: t, SubscribeID: getenv("SMARTAPP_SUBSCRIBE_ID")}
	}
	err := c.Reply(ctx, sender.Message{UserType: userType, OpenID: getenv("SMARTAPP_OPEN_ID"), MsgType: getenv("SMARTAPP_MSG_TYPE"),
		Content: getenv("SMARTAPP_CONTENT"), PicURL: getenv("SMARTAPP_PIC_URL")},
		getenv("SMARTAPP_CHECK_TEXT") == "1", consent, map[string]string{"keyword1": getenv("SMARTAPP_CONTENT")})
	cache.save(c.Token())
	out := json.NewEncoder(os.Stdout)
	var apiErr *sender.Error
	switch {
	case err == nil:
		_ = out.Encode(map[string]int{"errno": 0})
		return 0
	case errors.As(err, &apiErr) && apiErr.Gateway:
		_ = out.Encode(map[string]any{"error_code": apiErr.Number, "error_msg": apiErr.Message})
	case errors.As(err, &apiErr):
		_ = out.Encode(map[string]any{"errno": apiErr.Number, "msg": apiErr.Message})
	default:
		_ = out.Encode(map[string]string{"error": err.Error()})
	}
	fmt.Fprintln(os.Stderr, "not delivered:", err)
	return 1
}
