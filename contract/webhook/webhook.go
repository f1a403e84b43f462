// Package webhook is the contract kit of the receiving side of customer service: it checks a
// bot (the developer's server that Baidu pushes users' messages to) the way Baidu and the fake
// would, and judges each case from what the bot DID: its answers to the pushes, and the replies
// it sent through the fake's custom/send (read from the fake's journal). The example bots of
// examples/bots are tested with it.
//
// The kit runs a real fake in-process (mockservertest.Start, window mode require_user_message,
// one configured app with a fixed access token), sets the app's push configuration to the bot's
// URL (Baidu's verification handshake included), and has users write through the fake's "the
// user writes" (which opens their window and pushes), with push faults where a case needs them.
//
// A bot plugs in as a command (Suite.RunCommand, or `smartappmock contract webhook -- <command…>`):
// the kit starts it once with the environment of Env (SMARTAPPMOCK_BOT_PORT, the port to listen
// on at 127.0.0.1; SMARTAPPMOCK_PUSH_TOKEN; SMARTAPPMOCK_PUSH_AES_KEY; SMARTAPPMOCK_PUSH_CLIENT_ID;
// SMARTAPPMOCK_BASE_URL, the fake; SMARTAPPMOCK_ACCESS_TOKEN), waits until the port accepts
// connections, runs the cases one after the other and stops it. A Go bot plugs in as an
// http.Handler with Suite.RunHandler, or Run inside the user's own go test.
//
// With Suite.Platform the kit checks a third-party platform's receiver instead (PlatformCases):
// its fake pushes the platform's ticket and authorization events to the bot's PlatformPath.
//
// Reports are report.Report values (package contract/report): WriteText, WriteJUnit, ExitCode (1
// when a must-case failed).
package webhook

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/contract/internal/casename"
	"github.com/smartappmock/smartappmock/contract/report"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/mockservertest"
	"github.com/smartappmock/smartappmock/store"
)

// The credentials the bot is started with.
const (
	// Token is the push Token (SMARTAPPMOCK_PUSH_TOKEN).
	Token = "webhook-kit-token"
	// AESKey is the EncodingAESKey (SMARTAPPMOCK_PUSH_AES_KEY).
	AESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	// ClientID is the app's client_id, the trailing id of encrypted pushes
	// (SMARTAPPMOCK_PUSH_CLIENT_ID).
	ClientID = "webhook-kit-client-id"
	// AppID is the app's id: the ToUserName of every push.
	AppID = "webhook-kit-app"
	// AccessToken is the token the bot must send to custom/send (SMARTAPPMOCK_ACCESS_TOKEN).
	AccessToken = "24.webhook-kit-access-token"
)

// Timing of the cases.
const (
	// ReplyWithin is how long a case waits for a reply that should come. It is generous: a case
	// ends as soon as the reply is there, and a bot started by an interpreter on a busy machine
	// may take seconds; only a bot that never replies waits it out.
	ReplyWithin = 10 * time.Second
	// Settle is how long a case waits to be sure that no (further) reply is coming.
	Settle = 400 * time.Millisecond
	// AckWithin is Baidu's deadline for the bot's answer to a push.
	AckWithin = 2 * time.Second
	// caseTimeout is the push timeout of every case but acknowledged_within_2s, so that a slow
	// bot fails that one case, not all of them.
	caseTimeout = 5 * time.Second
)

// Env is what the kit tells a bot.
type Env struct {
	// Port is where the bot listens, on 127.0.0.1 (SMARTAPPMOCK_BOT_PORT; 0 for a handler).
	Port int
	// Token, AESKey and ClientID are the push configuration's secrets and trailing id.
	Token, AESKey, ClientID string
	// BaseURL is the fake's base URL: custom/send is BaseURL + /rest/2.0/smartapp/message/custom/send.
	BaseURL string
	// AccessToken is the access token for custom/send.
	AccessToken string
	// PlatformKey, PlatformToken and PlatformAESKey are the third-party platform's key (its
	// client_id, the trailing id of its pushes), verification token and message key: the
	// platform cases push to the bot's PlatformPath.
	PlatformKey, PlatformToken, PlatformAESKey string
}

// Environ renders e as the environment variables of a bot command.
func (e Env) Environ() []string {
	return []string{
		fmt.Sprintf("SMARTAPPMOCK_BOT_PORT=%d", e.Port),
		"SMARTAPPMOCK_PUSH_TOKEN=" + e.Token,
		"SMARTAPPMOCK_PUSH_AES_KEY=" + e.AESKey,
		"SMARTAPPMOCK_PUSH_CLIENT_ID=" + e.ClientID,
		"SMARTAPPMOCK_BASE_URL=" + e.BaseURL,
		"SMARTAPPMOCK_ACCESS_TOKEN=" + e.AccessToken,
		"SMARTAPPMOCK_TP_KEY=" + e.PlatformKey,
		"SMARTAPPMOCK_TP_PUSH_TOKEN=" + e.PlatformToken,
		"SMARTAPPMOCK_TP_AES_KEY=" + e.PlatformAESKey,
	}
}

// Case is one check of a bot.
type Case struct {
	// Name identifies the case in reports.
	Name string
	// Grade is report.GradeMust (Baidu requires it, or messages are lost or doubled) or
	// report.GradeShould.
	Grade report.Grade
	// Doc says in one sentence what the bot must do.
	Doc string

	run func(ctx context.Context, k *kit) []string
}

// Cases returns the catalogue, in the order the cases run.
func Cases() []Case {
	must, should := report.GradeMust, report.GradeShould
	return []Case{
		{"handshake_echoed", must, "answers the verification handshake with echoStr byte for byte (else the console refuses the URL)",
			func(ctx context.Context, k *kit) []string {
				_, err := k.setPush(ctx, baidupush.ModePlain, baidupush.FormatXML, 0)
				return errs(err)
			}},
		{"plain_json_replied", must, "acknowledges a plain JSON push and replies once through custom/send",
			func(ctx context.Context, k *kit) []string {
				return k.deliveredAndReplied(ctx, baidupush.ModePlain, baidupush.FormatJSON, "user-plain-json", text("hello json"), -1)
			}},
		{"plain_xml_replied", must, "acknowledges a plain XML push (CDATA, a ]]> inside) and replies once",
			func(ctx context.Context, k *kit) []string {
				return k.deliveredAndReplied(ctx, baidupush.ModePlain, baidupush.FormatXML, "user-plain-xml", text("hello <xml> & ]]> friends"), -1)
			}},
		{"secure_replied", must, "verifies msg_signature, decrypts a secure JSON push (10 bytes of padding) and replies once",
			func(ctx context.Context, k *kit) []string {
				return k.deliveredAndReplied(ctx, baidupush.ModeSecure, baidupush.FormatJSON, "user-secure", mockserver.UserMessage{}, 10)
			}},
		{"secure_padding_over_16_replied", must, "decrypts a secure XML push whose padding is 17 bytes (a 16-byte PKCS#7 unpadder fails) and replies once",
			func(ctx context.Context, k *kit) []string {
				return k.deliveredAndReplied(ctx, baidupush.ModeSecure, baidupush.FormatXML, "user-secure-pad17", mockserver.UserMessage{}, 17)
			}},
		{"image_replied", should, "acknowledges a plain JSON image push (PicUrl, no Content) and replies once",
			func(ctx context.Context, k *kit) []string {
				return k.deliveredAndReplied(ctx, baidupush.ModePlain, baidupush.FormatJSON, "user-image",
					mockserver.UserMessage{MsgType: baidupush.MsgTypeImage, PicURL: "https://example.com/cat.png"}, -1)
			}},
		{"wrong_signature_ignored", must, "does not act on (nor acknowledge) a push whose signature is wrong",
			func(ctx context.Context, k *kit) []string { return k.wrongSignature(ctx) }},
		{"stale_timestamp_ignored", should, "does not act on a correctly signed push whose timestamp is an hour old [inf: Baidu documents no freshness rule]",
			func(ctx context.Context, k *kit) []string { return k.staleTimestamp(ctx) }},
		{"replayed_nonce_ignored", should, "does not act on another message signed with a timestamp and nonce already used [inf: Baidu documents no nonce rule]",
			func(ctx context.Context, k *kit) []string { return k.replayedNonce(ctx) }},
		{"duplicate_answered_once", must, "acknowledges the same MsgId delivered twice (secure, 8 bytes of padding) but replies only once",
			func(ctx context.Context, k *kit) []string { return k.duplicate(ctx) }},
		{"acknowledged_within_2s", must, "answers a push within 2 s (Baidu drops the connection and retries after that)",
			func(ctx context.Context, k *kit) []string { return k.within2s(ctx) }},
		{"sixth_reply_90001_not_retried", must, "gets errno 90001 for a sixth reply in one window and does not retry it",
			func(ctx context.Context, k *kit) []string { return k.sixthReply(ctx) }},
	}
}

func errs(err error) []string {
	if err == nil {
		return nil
	}
	return []string{err.Error()}
}

func text(s string) mockserver.UserMessage {
	return mockserver.UserMessage{MsgType: baidupush.MsgTypeText, Content: s}
}

// Names returns the names of the cases, for selecting some.
func Names() []string {
	var out []string
	for _, c := range Cases() {
		out = append(out, c.Name)
	}
	return out
}

// kit is one run against one bot: the fake and the bot's URL (pushes of the platform cases go to
// botURL + PlatformPath).
type kit struct {
	fake   *mockservertest.Server
	botURL string
	msgSeq int64
}

// setPush points the app's pushes at the bot (the handshake runs) and returns the configuration
// in force. A timeout of 0 means caseTimeout.
func (k *kit) setPush(ctx context.Context, mode baidupush.Mode, f baidupush.Format, timeout time.Duration) (baidupush.Config, error) {
	if timeout == 0 {
		timeout = caseTimeout
	}
	zero := 0
	cfg := config.Push{Config: baidupush.Config{URL: k.botURL, Token: Token, EncodingAESKey: AESKey, Mode: mode, Format: f,
		Timeout: baidupush.Duration(timeout), Retries: &zero}}
	inForce, err := k.fake.Fake.SetPush(ctx, AppID, cfg)
	if err != nil {
		return baidupush.Config{}, fmt.Errorf("push configuration refused: %v", err)
	}
	return inForce.Config, nil
}

// write has openID write m (with faults) through the fake's core.
func (k *kit) write(ctx context.Context, openID string, m mockserver.UserMessage, faults ...config.PushFault) (mockserver.UserWrote, error) {
	return k.fake.Fake.UserWrites(ctx, mockserver.UserWrite{App: AppID, OpenID: openID, Messages: []mockserver.UserMessage{m}, Faults: faults})
}

// replies returns the bot's custom/send calls to openID, oldest first.
func (k *kit) replies(ctx context.Context, openID string) []store.Entry {
	es, _ := k.fake.Fake.Store().Journal(ctx, store.Query{App: AppID, OpenID: openID, Endpoint: "send"})
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es
}

// waitReplies polls until openID has at least n replies or d has passed.
func (k *kit) waitReplies(ctx context.Context, openID string, n int, d time.Duration) []store.Entry {
	deadline := time.Now().Add(d)
	for {
		got := k.replies(ctx, openID)
		if len(got) >= n || time.Now().After(deadline) || ctx.Err() != nil {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// withPad picks the content of a text message so that its secure encoding under c has exactly
// pad bytes of padding. The fake's MsgIds have 16 digits and CreateTime 10, so a stand-in
// message of the same shape has the same length.
func withPad(c baidupush.Config, openID string, pad int) (mockserver.UserMessage, error) {
	m := baidupush.Message{ToUserName: AppID, FromUserName: openID, CreateTime: time.Now().Unix(), MsgType: baidupush.MsgTypeText, MsgID: mockserver.MsgIDBase + 1}
	for n := 1; n < 100; n++ {
		m.Content = "pad " + strings.Repeat("x", n)
		b, err := m.MarshalFormat(c.Format)
		if err != nil {
			return mockserver.UserMessage{}, err
		}
		if 32-(baidupush.RandomSize+4+len(b)+len(c.ClientID))%32 == pad {
			return text(m.Content), nil
		}
	}
	return mockserver.UserMessage{}, fmt.Errorf("no content gives a padding of %d bytes", pad)
}

// judgeReply checks that an acknowledged push got exactly one successful reply with the kit's
// token.
func (k *kit) judgeReply(ctx context.Context, openID string) []string {
	got := k.waitReplies(ctx, openID, 1, ReplyWithin)
	if len(got) == 0 {
		return []string{fmt.Sprintf("acknowledged, but no reply to %s through custom/send within %s", openID, ReplyWithin)}
	}
	time.Sleep(Settle / 2)
	var out []string
	if got = k.replies(ctx, openID); len(got) != 1 {
		out = append(out, fmt.Sprintf("%d replies to %s for one message; want 1", len(got), openID))
	}
	if e := got[0]; !e.OK() {
		out = append(out, fmt.Sprintf("the reply was answered %s: %s", e.Outcome(), e.Reason))
	}
	return out
}

// deliveredAndReplied has openID write m (for pad >= 0: a text whose secure padding is pad
// bytes) under mode and format, and expects an acknowledgement and exactly one reply.
func (k *kit) deliveredAndReplied(ctx context.Context, mode baidupush.Mode, f baidupush.Format, openID string, m mockserver.UserMessage, pad int) []string {
	c, err := k.setPush(ctx, mode, f, 0)
	if err != nil {
		return errs(err)
	}
	if pad >= 0 {
		if m, err = withPad(c, openID, pad); err != nil {
			return errs(err)
		}
	}
	ans, err := k.write(ctx, openID, m)
	if err != nil {
		return errs(err)
	}
	if len(ans.Results) != 1 || !ans.Results[0].Delivered() {
		return []string{"push not acknowledged: " + ans.Summary}
	}
	return k.judgeReply(ctx, openID)
}

func (k *kit) wrongSignature(ctx context.Context) []string {
	if _, err := k.setPush(ctx, baidupush.ModePlain, baidupush.FormatJSON, 0); err != nil {
		return errs(err)
	}
	const user = "user-wrong-signature"
	ans, err := k.write(ctx, user, text("forged"), config.PushFault{Kind: config.PushFaultWrongSignature})
	if err != nil {
		return errs(err)
	}
	time.Sleep(Settle)
	var out []string
	if got := k.replies(ctx, user); len(got) != 0 {
		out = append(out, fmt.Sprintf("replied %d times to a push whose signature is wrong", len(got)))
	}
	if len(ans.Results) == 1 && ans.Results[0].Delivered() {
		out = append(out, "acknowledged a push whose signature is wrong (answer 403 and do nothing)")
	}
	return out
}

func (k *kit) duplicate(ctx context.Context) []string {
	c, err := k.setPush(ctx, baidupush.ModeSecure, baidupush.FormatJSON, 0)
	if err != nil {
		return errs(err)
	}
	const user = "user-duplicate"
	// 8 bytes of padding: only secure_padding_over_16_replied may catch a 16-byte unpadder.
	m, err := withPad(c, user, 8)
	if err != nil {
		return errs(err)
	}
	ans, err := k.write(ctx, user, m, config.PushFault{Kind: config.PushFaultDuplicate})
	if err != nil {
		return errs(err)
	}
	if len(ans.Results) != 1 {
		return []string{"no delivery: " + ans.Summary}
	}
	r := ans.Results[0]
	if !r.Delivered() || len(r.Attempts) != 2 || !r.Attempts[1].Acked {
		return []string{"the push and its duplicate were not both acknowledged: " + ans.Summary + attemptsText(r)}
	}
	if got := k.waitReplies(ctx, user, 1, ReplyWithin); len(got) == 0 {
		return []string{fmt.Sprintf("no reply to %s within %s", user, ReplyWithin)}
	}
	time.Sleep(Settle)
	if got := k.replies(ctx, user); len(got) != 1 {
		return []string{fmt.Sprintf("%d replies to one message delivered twice (MsgId %d); want 1: de-duplicate by MsgId", len(got), r.MsgID)}
	}
	return nil
}

func attemptsText(r baidupush.Result) string {
	var b strings.Builder
	for _, a := range r.Attempts {
		fmt.Fprintf(&b, "; attempt %d: HTTP %d %q", a.N, a.Status, a.Body)
		if a.Reason != "" {
			b.WriteString(" (" + a.Reason + ")")
		}
	}
	return b.String()
}

func (k *kit) within2s(ctx context.Context) []string {
	if _, err := k.setPush(ctx, baidupush.ModePlain, baidupush.FormatJSON, AckWithin); err != nil {
		return errs(err)
	}
	ans, err := k.write(ctx, "user-ack-2s", text("quick?"))
	if err != nil {
		return errs(err)
	}
	if len(ans.Results) != 1 || len(ans.Results[0].Attempts) == 0 {
		return []string{"no attempt: " + ans.Summary}
	}
	a := ans.Results[0].Attempts[0]
	if !a.Acked || a.Latency >= AckWithin {
		return []string{fmt.Sprintf("the push was not acknowledged within %s (took %s: %s); answer first, reply later", AckWithin, a.Latency.Round(time.Millisecond), a.Reason)}
	}
	return nil
}

// sixthReply opens a window with one user message (reply 1), then pushes five more messages
// straight to the bot without reopening the window (as retries of other messages would): its
// sixth reply gets 90001, which it must not retry.
func (k *kit) sixthReply(ctx context.Context) []string {
	c, err := k.setPush(ctx, baidupush.ModePlain, baidupush.FormatJSON, 0)
	if err != nil {
		return errs(err)
	}
	const user = "user-sixth-reply"
	ans, err := k.write(ctx, user, text("message 1"))
	if err != nil {
		return errs(err)
	}
	if len(ans.Results) != 1 || !ans.Results[0].Delivered() {
		return []string{"push not acknowledged: " + ans.Summary}
	}
	if got := k.waitReplies(ctx, user, 1, ReplyWithin); len(got) != 1 {
		return []string{fmt.Sprintf("%d replies to the first message; want 1", len(got))}
	}
	client := baidupush.NewClient()
	defer client.CloseIdleConnections()
	for i := 2; i <= 6; i++ {
		k.msgSeq++
		m := baidupush.Message{ToUserName: AppID, FromUserName: user, CreateTime: time.Now().Unix(), MsgType: baidupush.MsgTypeText,
			Content: fmt.Sprintf("message %d", i), MsgID: mockserver.MsgIDBase + 900_000_000 + k.msgSeq}
		if r := baidupush.Deliver(ctx, client, c, m); !r.Delivered() {
			return []string{fmt.Sprintf("push %d not acknowledged: %s", i, r.Reason)}
		}
		if got := k.waitReplies(ctx, user, i, ReplyWithin); len(got) < i {
			return []string{fmt.Sprintf("%d replies after %d messages; want one per message", len(got), i)}
		}
	}
	time.Sleep(2 * Settle) // would a retry come?
	got := k.replies(ctx, user)
	var out []string
	if len(got) != 6 {
		out = append(out, fmt.Sprintf("%d custom/send calls for 6 messages; want 6 (a reply answered 90001 must not be retried)", len(got)))
	}
	if len(got) >= 6 && (got[5].Code != 90001 || got[5].OK()) {
		out = append(out, fmt.Sprintf("the sixth reply was answered %s; want business 90001", got[5].Outcome()))
	}
	return out
}

// runCases runs the selected cases against the bot at botURL and fills in the report.
func runCases(ctx context.Context, k *kit, cases []Case, rep *report.Report, progress report.Progress) {
	for _, c := range cases {
		start := time.Now()
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		fs := c.run(cctx, k)
		cancel()
		res := report.Result{Case: c.Name, Grade: c.Grade, Doc: c.Doc, Status: report.StatusPass, Elapsed: time.Since(start)}
		if len(fs) > 0 {
			res.Status, res.Reason, res.Details = report.StatusFail, fs[0], strings.Join(fs, "\n")
		}
		rep.Results = append(rep.Results, res)
		if progress != nil {
			progress(res, len(rep.Results), len(cases))
		}
	}
}

// selectCases returns the cases named (all when names is empty), or an error naming the unknown.
func selectCases(names []string) ([]Case, error) {
	return casename.Select(Cases(), func(c Case) string { return c.Name }, "webhook case", names)
}
