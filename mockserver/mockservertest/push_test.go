package mockservertest_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver/mockservertest"
)

// echoBot is a minimal bot: it echoes the handshake, opens pushes with baidupush.Open and
// replies through the fake with the client it was given.
type echoBot struct {
	cfg    baidupush.Config
	client *http.Client
	mu     sync.Mutex
	seen   []string
	reply  []string // errno answers of its replies
}

func (b *echoBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if e := r.URL.Query().Get(baidupush.ParamEchoStr); e != "" {
		_, _ = io.WriteString(w, e)
		return
	}
	o, err := baidupush.Open(b.cfg, r.URL.Query(), body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	form := url.Values{"user_type": {"2"}, "open_id": {o.Message.FromUserName}, "msg_type": {"text"}, "content": {"re: " + o.Message.Content}}
	resp, err := b.client.PostForm("https://openapi.baidu.com/rest/2.0/smartapp/message/custom/send?access_token=sandbox-token", form)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seen = append(b.seen, o.Message.Content)
	if err == nil {
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		b.reply = append(b.reply, strings.TrimSpace(string(out)))
	}
	_, _ = io.WriteString(w, "success")
}

func TestUserWrites_BotUnderTestRepliesThroughTheFake(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  config.Push
	}{
		{"PlainXML_Delivered", config.Push{}},
		{"SecureJSON_Delivered", config.Push{Config: baidupush.Config{Mode: baidupush.ModeSecure, Format: baidupush.FormatJSON, EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := mockservertest.New(t, nil)
			bot := &echoBot{client: s.Client()}
			cfg := s.PushTo(t, "10001", bot, tc.cfg)
			bot.cfg = cfg.Config
			res := s.UserWrites(t, "10001", "user-1", "hello")
			if !res.Delivered() || len(res.Attempts) != 1 {
				t.Fatalf("delivery = %+v; want delivered on the first attempt", res)
			}
			bot.mu.Lock()
			defer bot.mu.Unlock()
			want := []string{"hello"}
			if diff := cmp.Diff(want, bot.seen); diff != "" {
				t.Errorf("bot saw mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{`{"errno":0,"msg":"success"}`}, bot.reply); diff != "" {
				t.Errorf("bot's reply answered mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
