// Package botcheck drives a customer-service bot the way Baidu and the fake would, and judges it
// from what it did: its answers to pushes and the replies it sent through custom/send. It is the
// seed of the webhook contract kit of issue 13, used by the tests of the example bots.
package botcheck

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	smartappmock "github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/baidupush"
)

// Test credentials the bots are started with.
const (
	// Token is the push Token (SMARTAPPMOCK_PUSH_TOKEN).
	Token = "bot-token"
	// AESKey is the EncodingAESKey (SMARTAPPMOCK_PUSH_AES_KEY).
	AESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	// ClientID is the trailing id of encrypted pushes (SMARTAPPMOCK_PUSH_CLIENT_ID).
	ClientID = "bot-client-id"
	// AppID is the ToUserName of every push.
	AppID = "bot-app-id"
	// AccessToken is the token the bot must send to custom/send (SMARTAPPMOCK_ACCESS_TOKEN).
	AccessToken = "24.botcheck-access-token"
)

// Reply is one custom/send call the bot made.
type Reply struct {
	// AccessToken is the access_token of the query.
	AccessToken string
	// Form is the form body: user_type, open_id, msg_type, content or pic_url.
	Form url.Values
}

// FakeAPI is a custom/send endpoint (an httptest server) that records every reply and answers
// errno 0.
type FakeAPI struct {
	// URL is the base URL to give the bot (SMARTAPPMOCK_BASE_URL).
	URL string

	mu      sync.Mutex
	replies []Reply
}

// NewFakeAPI starts a FakeAPI, closed when the test ends.
func NewFakeAPI(t testing.TB) *FakeAPI {
	t.Helper()
	f := &FakeAPI{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != smartappmock.SendPath || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.replies = append(f.replies, Reply{AccessToken: r.URL.Query().Get("access_token"), Form: r.PostForm})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"errno":0,"msg":"success","data":{}}`))
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// RepliesTo returns the replies sent to openID so far.
func (f *FakeAPI) RepliesTo(openID string) []Reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Reply
	for _, r := range f.replies {
		if r.Form.Get(smartappmock.ParamOpenID) == openID {
			out = append(out, r)
		}
	}
	return out
}

// waitReplies polls until openID has at least n replies or d has passed.
func (f *FakeAPI) waitReplies(ctx context.Context, openID string, n int, d time.Duration) []Reply {
	deadline := time.Now().Add(d)
	for {
		got := f.RepliesTo(openID)
		if len(got) >= n || time.Now().After(deadline) || ctx.Err() != nil {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Case is one check of a bot.
type Case struct {
	// Name identifies the case in failure lists.
	Name string
	// Doc says what the bot must do.
	Doc string
	run func(ctx context.Context, e env) error
}

type env struct {
	botURL string
	api    *FakeAPI
	client *http.Client
	seq    int64
}

// Settle is how long a case waits to be sure a reply is NOT coming.
const Settle = 400 * time.Millisecond

// ReplyWithin is how long a case waits for a reply that should come.
const ReplyWithin = 3 * time.Second

func (e env) config(mode baidupush.Mode, f baidupush.Format) baidupush.Config {
	return baidupush.Config{URL: e.botURL, Token: Token, EncodingAESKey: AESKey, Mode: mode, Format: f}.WithDefaults(ClientID)
}

func (e env) message(openID, content string) baidupush.Message {
	return baidupush.Message{ToUserName: AppID, FromUserName: openID, CreateTime: time.Now().Unix(), MsgType: baidupush.MsgTypeText,
		Content: content, MsgID: 7_000_000_000 + e.seq}
}

// withPad picks content so that the secure encoding of m under c has exactly pad bytes of
// padding.
func withPad(c baidupush.Config, m baidupush.Message, pad int) baidupush.Message {
	for k := 1; k < 100; k++ {
		m.Content = "pad " + strings.Repeat("x", k)
		b, _ := m.MarshalFormat(c.Format)
		if 32-(16+4+len(b)+len(c.ClientID))%32 == pad {
			return m
		}
	}
	panic(fmt.Sprintf("botcheck: no content gives padding %d", pad))
}

// deliveredAndReplied pushes m under c and expects an acknowledgement on the first attempt
// within 2 s, then exactly one reply to the sender.
func deliveredAndReplied(ctx context.Context, e env, c baidupush.Config, m baidupush.Message) error {
	res := baidupush.Deliver(ctx, e.client, c, m)
	if !res.Delivered() {
		return fmt.Errorf("push not acknowledged: %s", res.Reason)
	}
	if a := res.Attempts[0]; !a.Acked {
		return fmt.Errorf("first attempt not acknowledged: %s", a.Reason)
	}
	got := e.api.waitReplies(ctx, m.FromUserName, 1, ReplyWithin)
	if len(got) == 0 {
		return fmt.Errorf("acknowledged, but no reply to %s through custom/send within %s", m.FromUserName, ReplyWithin)
	}
	time.Sleep(Settle / 2)
	if got = e.api.RepliesTo(m.FromUserName); len(got) != 1 {
		return fmt.Errorf("%d replies to %s; want 1", len(got), m.FromUserName)
	}
	if tok := got[0].AccessToken; tok != AccessToken {
		return fmt.Errorf("reply with access_token %q; want %q", tok, AccessToken)
	}
	return nil
}

// Cases returns the checks, in order.
func Cases() []Case {
	return []Case{
		{"handshake_echoed", "answers the verification handshake with echoStr byte for byte",
			func(ctx context.Context, e env) error {
				return baidupush.Handshake(ctx, e.client, e.config(baidupush.ModePlain, baidupush.FormatXML))
			}},
		{"plain_json_replied", "acknowledges a plain JSON push within 2 s and replies once",
			func(ctx context.Context, e env) error {
				return deliveredAndReplied(ctx, e, e.config(baidupush.ModePlain, baidupush.FormatJSON), e.message("user-plain-json", "hello json"))
			}},
		{"plain_xml_replied", "acknowledges a plain XML push within 2 s and replies once",
			func(ctx context.Context, e env) error {
				return deliveredAndReplied(ctx, e, e.config(baidupush.ModePlain, baidupush.FormatXML), e.message("user-plain-xml", "hello <xml> & ]]> friends"))
			}},
		{"image_replied", "acknowledges a plain JSON image push and replies once",
			func(ctx context.Context, e env) error {
				m := e.message("user-image", "")
				m.MsgType, m.Content, m.PicURL = baidupush.MsgTypeImage, "", "https://example.com/cat.png"
				return deliveredAndReplied(ctx, e, e.config(baidupush.ModePlain, baidupush.FormatJSON), m)
			}},
		{"secure_json_replied", "decrypts a secure JSON push (padding of 10 bytes) and replies once",
			func(ctx context.Context, e env) error {
				c := e.config(baidupush.ModeSecure, baidupush.FormatJSON)
				return deliveredAndReplied(ctx, e, c, withPad(c, e.message("user-secure-json", ""), 10))
			}},
		{"secure_padding_over_16_replied", "decrypts a secure XML push whose padding is 17 bytes (a 16-byte unpadder fails) and replies once",
			func(ctx context.Context, e env) error {
				c := e.config(baidupush.ModeSecure, baidupush.FormatXML)
				return deliveredAndReplied(ctx, e, c, withPad(c, e.message("user-secure-pad17", ""), 17))
			}},
		{"wrong_signature_ignored", "does not act on a push whose signature is wrong",
			func(ctx context.Context, e env) error {
				c := e.config(baidupush.ModePlain, baidupush.FormatJSON)
				m := e.message("user-wrong-signature", "forged")
				res := baidupush.Deliver(ctx, e.client, c, m, baidupush.WrongSignature())
				time.Sleep(Settle)
				if got := e.api.RepliesTo(m.FromUserName); len(got) != 0 {
					return fmt.Errorf("replied %d times to a push with a wrong signature", len(got))
				}
				if res.Delivered() {
					return fmt.Errorf("acknowledged a push with a wrong signature (no reply, but Baidu will not retry)")
				}
				return nil
			}},
		{"duplicate_answered_once", "acknowledges a duplicate MsgId (secure, 8 bytes of padding) but replies only once",
			func(ctx context.Context, e env) error {
				c := e.config(baidupush.ModeSecure, baidupush.FormatJSON)
				// Padding of 8 bytes: only secure_padding_over_16_replied may fail a 16-byte unpadder.
				m := withPad(c, e.message("user-duplicate", ""), 8)
				res := baidupush.Deliver(ctx, e.client, c, m, baidupush.Duplicate())
				if !res.Delivered() || len(res.Attempts) != 2 || !res.Attempts[1].Acked {
					return fmt.Errorf("push and its duplicate not both acknowledged: %+v", res.Attempts)
				}
				if got := e.api.waitReplies(ctx, m.FromUserName, 1, ReplyWithin); len(got) == 0 {
					return fmt.Errorf("no reply to %s within %s", m.FromUserName, ReplyWithin)
				}
				time.Sleep(Settle) // would a second reply come?
				if got := e.api.RepliesTo(m.FromUserName); len(got) != 1 {
					return fmt.Errorf("%d replies to one message delivered twice; want 1", len(got))
				}
				return nil
			}},
	}
}

// Result is the verdict of one case.
type Result struct {
	// Case is the name of the case.
	Case string
	// Err says why the case failed; nil when it passed.
	Err error
}

// Run runs every case against the bot at botURL whose replies go to api, one after the other,
// and returns the verdicts in the order of Cases.
func Run(ctx context.Context, botURL string, api *FakeAPI) []Result {
	var out []Result
	for i, c := range Cases() {
		e := env{botURL: botURL, api: api, client: &http.Client{}, seq: int64(i)}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := c.run(cctx, e)
		cancel()
		out = append(out, Result{Case: c.Name, Err: err})
	}
	return out
}

// Failed lists the names of the failed cases.
func Failed(rs []Result) []string {
	var out []string
	for _, r := range rs {
		if r.Err != nil {
			out = append(out, r.Case)
		}
	}
	return out
}

// Report renders the verdicts, one line each.
func Report(rs []Result) string {
	var b strings.Builder
	for _, r := range rs {
		if r.Err != nil {
			fmt.Fprintf(&b, "FAIL %s: %v\n", r.Case, r.Err)
		} else {
			fmt.Fprintf(&b, "ok   %s\n", r.Case)
		}
	}
	return b.String()
}

// Env is the environment a bot is started with, as KEY=value strings (port 0: pick one and
// print it).
func Env(api *FakeAPI) []string {
	return []string{
		"SMARTAPPMOCK_BOT_PORT=0",
		"SMARTAPPMOCK_PUSH_TOKEN=" + Token,
		"SMARTAPPMOCK_PUSH_AES_KEY=" + AESKey,
		"SMARTAPPMOCK_PUSH_CLIENT_ID=" + ClientID,
		"SMARTAPPMOCK_BASE_URL=" + api.URL,
		"SMARTAPPMOCK_ACCESS_TOKEN=" + AccessToken,
	}
}
