package webhook_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/contract/report"
	"github.com/smartappmock/smartappmock/contract/webhook"
)

// flaw names a way the test bot goes wrong.
type flaw string

const (
	noFlaw          flaw = ""
	ignoreSignature flaw = "ignore_signature" // acts on pushes whatever their signature
	noDedup         flaw = "no_dedup"         // replies to every delivery, duplicates included
	slowAck         flaw = "slow_ack"         // replies first, acknowledges after 2.2 s
	retry90001      flaw = "retry_90001"      // retries a reply that was answered 90001
	noEcho          flaw = "no_echo"          // answers the handshake "success"
	noFreshness     flaw = "no_freshness"     // acts on a push whatever its timestamp
	noNonceCheck    flaw = "no_nonce_check"   // acts on a timestamp and nonce used before
)

// goBot is the bot of these tests: baidupush.Open to verify and decrypt, de-duplication by MsgId,
// an answer at once and the reply in the background, unless its flaw says otherwise.
type goBot struct {
	env  webhook.Env
	flaw flaw

	mu     sync.Mutex
	seen   map[int64]bool
	nonces map[string][32]byte // timestamp/nonce -> sha256 of the body
	wg     sync.WaitGroup
}

// replayed reports why a verified push must not be acted on: a timestamp more than
// webhook.StaleAfter from now, or a timestamp and nonce seen before with other bytes (the same
// bytes are a retry).
func (b *goBot) replayed(q url.Values, body []byte) string {
	ts, nonce := q.Get(baidupush.ParamTimestamp), q.Get(baidupush.ParamNonce)
	if b.flaw != noFreshness {
		n, err := strconv.ParseInt(ts, 10, 64)
		if d := time.Since(time.Unix(n, 0)); err != nil || d > webhook.StaleAfter || d < -webhook.StaleAfter {
			return "stale timestamp " + ts
		}
	}
	if b.flaw == noNonceCheck {
		return ""
	}
	sum := sha256.Sum256(body)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.nonces == nil {
		b.nonces = map[string][32]byte{}
	}
	if prev, ok := b.nonces[ts+"/"+nonce]; ok && prev != sum {
		return "timestamp and nonce replayed with other bytes"
	}
	b.nonces[ts+"/"+nonce] = sum
	return ""
}

func (b *goBot) config(mode baidupush.Mode, f baidupush.Format) baidupush.Config {
	return baidupush.Config{Token: b.env.Token, EncodingAESKey: b.env.AESKey, ClientID: b.env.ClientID, Mode: mode, Format: f}
}

// open tries every mode and format: the bot does not know which one the console chose.
func (b *goBot) open(q url.Values, body []byte) (baidupush.Message, error) {
	f := baidupush.FormatXML
	if strings.HasPrefix(strings.TrimSpace(string(body)), "{") {
		f = baidupush.FormatJSON
	}
	mode := baidupush.ModePlain
	if q.Get(baidupush.ParamMsgSignature) != "" {
		mode = baidupush.ModeSecure
	}
	c := b.config(mode, f)
	if b.flaw == ignoreSignature {
		c.Token = "" // Open then fails on the signature; read the message anyway
		m, err := baidupush.ParseMessage(f, body)
		if mode == baidupush.ModeSecure {
			var o baidupush.Opened
			c.Token = b.env.Token
			o, err = baidupush.Open(c, q, body)
			m = o.Message
		}
		return m, err
	}
	o, err := baidupush.Open(c, q, body)
	return o.Message, err
}

func (b *goBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if echo := r.Form.Get(baidupush.ParamEchoStr); echo != "" {
		if b.flaw == noEcho {
			echo = "success"
		}
		_, _ = io.WriteString(w, echo)
		return
	}
	m, err := b.open(r.URL.Query(), body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	if why := b.replayed(r.URL.Query(), body); why != "" {
		http.Error(w, why, http.StatusForbidden)
		return
	}
	b.mu.Lock()
	first := !b.seen[m.MsgID]
	b.seen[m.MsgID] = true
	b.mu.Unlock()
	if first || b.flaw == noDedup {
		if b.flaw == slowAck {
			b.reply(m)
			time.Sleep(2200 * time.Millisecond)
		} else {
			b.wg.Go(func() { b.reply(m) })
		}
	}
	_, _ = io.WriteString(w, "success")
}

func (b *goBot) reply(m baidupush.Message) {
	form := url.Values{"user_type": {"2"}, "open_id": {m.FromUserName}, "msg_type": {"text"}, "content": {"got it"}}
	for try := 0; try < 2; try++ {
		resp, err := http.PostForm(b.env.BaseURL+"/rest/2.0/smartapp/message/custom/send?access_token="+url.QueryEscape(b.env.AccessToken), form)
		if err != nil {
			return
		}
		var env struct{ Errno int }
		_ = json.NewDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if env.Errno == 0 || b.flaw != retry90001 {
			return
		}
	}
}

func TestRunHandler_FailsExactlyTheFlawedCases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		flaw flaw
		want []string // failed cases
	}{
		{"GoodBot_PassesEveryCase", noFlaw, nil},
		{"IgnoresSignature_FailsWrongSignature", ignoreSignature, []string{"wrong_signature_ignored"}},
		{"NoDedup_FailsDuplicate", noDedup, []string{"duplicate_answered_once"}},
		{"SlowAck_FailsWithin2s", slowAck, []string{"acknowledged_within_2s"}},
		{"Retries90001_FailsSixthReply", retry90001, []string{"sixth_reply_90001_not_retried"}},
		{"NoFreshness_FailsStaleTimestamp", noFreshness, []string{"stale_timestamp_ignored"}},
		{"NoNonceCheck_FailsReplayedNonce", noNonceCheck, []string{"replayed_nonce_ignored"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var bot *goBot
			rep, err := webhook.Suite{}.RunHandler(context.Background(), func(e webhook.Env) http.Handler {
				bot = &goBot{env: e, flaw: tc.flaw, seen: map[int64]bool{}}
				return bot
			})
			if err != nil {
				t.Fatal(err)
			}
			defer bot.wg.Wait()
			if diff := cmp.Diff(tc.want, rep.Failed("")); diff != "" {
				var b strings.Builder
				_ = rep.WriteText(&b)
				t.Errorf("failed cases mismatch (-want +got):\n%s\n%s", diff, b.String())
			}
		})
	}
}

func TestRunHandler_NoEcho_FailsEveryCase(t *testing.T) {
	t.Parallel()
	var progress []string
	s := webhook.Suite{Cases: []string{"handshake_echoed", "plain_json_replied"}, Progress: func(res report.Result, done, total int) {
		progress = append(progress, fmt.Sprintf("%d/%d %s %s", done, total, res.Status, res.Case))
	}}
	rep, err := s.RunHandler(context.Background(), func(e webhook.Env) http.Handler {
		return &goBot{env: e, flaw: noEcho, seen: map[int64]bool{}}
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"handshake_echoed", "plain_json_replied"}, rep.Failed(report.GradeMust)); diff != "" {
		t.Errorf("failed cases mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"1/2 fail handshake_echoed", "2/2 fail plain_json_replied"}, progress); diff != "" {
		t.Errorf("progress mismatch (-want +got):\n%s", diff)
	}
	if r := rep.Results[0]; !strings.Contains(r.Reason, `got HTTP 200 with body "success"`) {
		t.Errorf("reason %q does not say what came back", r.Reason)
	}
}

func TestSuite_UnknownCase_Error(t *testing.T) {
	t.Parallel()
	_, err := webhook.Suite{Cases: []string{"handshake"}}.RunHandler(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), `unknown webhook case "handshake"`) {
		t.Errorf("error = %v; want the unknown case named", err)
	}
}

// TestRunCommand_StartsTheBotAndStopsIt runs the kit against a bot command: this test binary,
// started as the goBot of these tests (see TestMain). The example bots of examples/bots are run
// as commands by their own tests.
func TestRunCommand_StartsTheBotAndStopsIt(t *testing.T) {
	t.Parallel()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuilder
	rep, err := webhook.Suite{Output: &out, Cases: []string{"handshake_echoed", "secure_replied", "duplicate_answered_once"}}.
		RunCommand(context.Background(), []string{self, botArg})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed() || len(rep.Results) != 3 {
		var b strings.Builder
		_ = rep.WriteText(&b)
		t.Errorf("report passed %v with %d results; want 3 cases passed\n%s\nbot output:\n%s", rep.Passed(), len(rep.Results), b.String(), out.String())
	}
	if got := out.String(); !strings.Contains(got, "test bot listening on 127.0.0.1:") {
		t.Errorf("bot output %q; want its listening line (Suite.Output receives it)", got)
	}
}

// lockedBuilder collects a bot command's output, which the command's copying goroutine writes.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRun_GoodHandler_EveryCasePasses is what a user's own go test looks like.
func TestRun_GoodHandler_EveryCasePasses(t *testing.T) {
	t.Parallel()
	var bot *goBot
	rep := webhook.Run(t, func(e webhook.Env) http.Handler {
		bot = &goBot{env: e, seen: map[int64]bool{}}
		return bot
	})
	bot.wg.Wait()
	if !rep.Passed() || len(rep.Results) != len(webhook.Cases()) {
		t.Errorf("report passed %v with %d results; want every one of %d cases passed", rep.Passed(), len(rep.Results), len(webhook.Cases()))
	}
}
