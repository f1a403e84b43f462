package baidupush_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/smartappmock/smartappmock/baidupush"
)

// A bot that verifies each push with baidupush.Open and acknowledges it; the first attempt fails
// with a 503, the retry carries the same MsgId.
func ExampleDeliver() {
	cfg := baidupush.Config{Token: "token", Mode: baidupush.ModeSecure, Format: baidupush.FormatJSON,
		EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}.WithDefaults("app-key")
	calls := 0
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		o, err := baidupush.Open(cfg, r.URL.Query(), body)
		if calls++; calls == 1 || err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Printf("bot: MsgId %d from %s: %s\n", o.Message.MsgID, o.Message.FromUserName, o.Message.Content)
		_, _ = io.WriteString(w, "success")
	}))
	defer bot.Close()
	cfg.URL = bot.URL

	res := baidupush.Deliver(context.Background(), bot.Client(), cfg, baidupush.Message{
		ToUserName: "app-id", FromUserName: "open-id-1", CreateTime: 1714036504,
		MsgType: baidupush.MsgTypeText, Content: "hello", MsgID: 42,
	})
	fmt.Println(res.Outcome)
	for _, a := range res.Attempts {
		fmt.Printf("attempt %d: HTTP %d acked=%v\n", a.N, a.Status, a.Acked)
	}
	// Output:
	// bot: MsgId 42 from open-id-1: hello
	// delivered
	// attempt 1: HTTP 503 acked=false
	// attempt 2: HTTP 200 acked=true
}
