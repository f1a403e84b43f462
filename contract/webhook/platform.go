package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/contract/report"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// The platform cases (Suite.Platform, `smartappmock contract webhook --platform`) check a
// third-party platform's receiver of Baidu's pushes: the ticket every 10 minutes and the
// authorization events, JSON, encrypted, in the documented envelope, at the platform's
// authorization-event URL. The kit's fake pushes them (its platform's push URL is the bot's
// PlatformPath) and judges from what the receiver did: its answers, and its calls to the fake's
// token endpoints (the ticket for a platform token, the authorization code for authorizer tokens).

// The platform's credentials the bot is started with.
const (
	// PlatformKey is the platform's key (SMARTAPPMOCK_TP_KEY): its client_id, and the trailing
	// id of its pushes [inf].
	PlatformKey = "webhook-kit-platform"
	// PlatformToken is the platform's verification token (SMARTAPPMOCK_TP_PUSH_TOKEN).
	PlatformToken = "webhook-kit-platform-token"
	// PlatformAESKey is the platform's message key (SMARTAPPMOCK_TP_AES_KEY).
	PlatformAESKey = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
	// PlatformTicket is the ticket the kit's fake pushes and its token endpoint accepts.
	PlatformTicket = "webhook-kit-ticket"
	// PlatformPath is where on the bot the platform's pushes go.
	PlatformPath = "/platform"
)

// platformConfig is the platforms block of the kit's fake: pushes to botURL + PlatformPath, on
// demand only, one attempt each.
func platformConfig(botURL string) string {
	return `platforms:
  - key: ` + PlatformKey + `
    secret: webhook-kit-platform-secret
    ticket: ` + PlatformTicket + `
    push:
      url: ` + botURL + PlatformPath[1:] + `
      token: ` + PlatformToken + `
      encoding_aes_key: ` + PlatformAESKey + `
      no_ticket_schedule: true
      timeout: 5s
      retries: 0
`
}

// PlatformCases returns the catalogue of the platform cases, in the order they run.
func PlatformCases() []Case {
	must, should := report.GradeMust, report.GradeShould
	return []Case{
		{"platform_ticket_acknowledged", must, "verifies, decrypts and acknowledges the ticket push (else Baidu retries it)",
			func(ctx context.Context, k *kit) []string {
				return k.platformAcked(ctx, mockserver.PlatformEventTicket, "")
			}},
		{"platform_ticket_used", should, "gets a platform token with the pushed ticket",
			func(ctx context.Context, k *kit) []string { return k.ticketUsed(ctx) }},
		{"platform_authorized_code_exchanged", should, "acknowledges AUTHORIZED and exchanges its authorization code for the mini program's tokens",
			func(ctx context.Context, k *kit) []string { return k.codeExchanged(ctx) }},
		{"platform_unauthorized_acknowledged", must, "acknowledges UNAUTHORIZED",
			func(ctx context.Context, k *kit) []string {
				return k.platformAcked(ctx, baidupush.EventUnauthorized, AppID)
			}},
		{"platform_wrong_signature_ignored", must, "neither acknowledges nor uses a ticket push whose MsgSignature is wrong",
			func(ctx context.Context, k *kit) []string { return k.platformForged(ctx) }},
	}
}

// platformAcked has the fake push the platform event (ticket, or an authorization event of app)
// and wants it acknowledged.
func (k *kit) platformAcked(ctx context.Context, event, app string) []string {
	p, err := k.fake.Fake.PlatformPush(ctx, PlatformKey, event, app)
	if err != nil {
		return errs(err)
	}
	if !p.Result.Delivered() {
		return []string{fmt.Sprintf("the %s push was not acknowledged: %s%s", event, p.Result.Reason, attemptsText(p.Result))}
	}
	return nil
}

// platformCalls returns the journal entries of the fake's endpoint that were answered
// successfully and match ok.
func (k *kit) platformCalls(ctx context.Context, endpoint string, ok func(store.Entry) bool) []store.Entry {
	es, _ := k.fake.Fake.Store().Journal(ctx, store.Query{Endpoint: endpoint})
	var out []store.Entry
	for _, e := range es {
		if e.OK() && ok(e) {
			out = append(out, e)
		}
	}
	return out
}

// waitCalls polls platformCalls until one matches or d has passed.
func (k *kit) waitCalls(ctx context.Context, endpoint string, d time.Duration, ok func(store.Entry) bool) []store.Entry {
	deadline := time.Now().Add(d)
	for {
		got := k.platformCalls(ctx, endpoint, ok)
		if len(got) > 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func param(e store.Entry, name string) string {
	for _, p := range e.Params {
		if p.Name == name && p.Used {
			return p.Value
		}
	}
	return ""
}

func (k *kit) ticketUsed(ctx context.Context) []string {
	if fs := k.platformAcked(ctx, mockserver.PlatformEventTicket, ""); fs != nil {
		return fs
	}
	// The journal hides tickets: an answered request of the kit's platform had the right one.
	got := k.waitCalls(ctx, "tp_token", ReplyWithin, func(e store.Entry) bool { return param(e, "client_id") == PlatformKey })
	if len(got) == 0 {
		return []string{fmt.Sprintf("no platform token requested with the pushed ticket within %s (GET /public/2.0/smartapp/auth/tp/token?client_id=…&ticket=…)", ReplyWithin)}
	}
	return nil
}

func (k *kit) codeExchanged(ctx context.Context) []string {
	// The receiver needs a platform token to exchange the code: the ticket comes first.
	if fs := k.platformAcked(ctx, mockserver.PlatformEventTicket, ""); fs != nil {
		return fs
	}
	p, err := k.fake.Fake.PlatformPush(ctx, PlatformKey, baidupush.EventAuthorized, AppID)
	if err != nil {
		return errs(err)
	}
	if !p.Result.Delivered() {
		return []string{"the AUTHORIZED push was not acknowledged: " + p.Result.Reason + attemptsText(p.Result)}
	}
	got := k.waitCalls(ctx, "tp_oauth", ReplyWithin, func(e store.Entry) bool { return e.App == AppID })
	if len(got) == 0 {
		return []string{fmt.Sprintf("the authorization code was not exchanged within %s (GET /rest/2.0/oauth/token?grant_type=app_to_tp_authorization_code&code=…)", ReplyWithin)}
	}
	return nil
}

// platformForged pushes a ticket push carrying another ticket, with a wrong MsgSignature, straight
// to the receiver.
func (k *kit) platformForged(ctx context.Context) []string {
	const forged = "forged-ticket"
	msg, err := baidupush.MarshalPlatform(baidupush.TicketMessage{Ticket: forged, FromUserName: baidupush.PlatformFromUserName,
		CreateTime: time.Now().Unix(), MsgType: baidupush.MsgTypeTicket, Event: baidupush.EventPush})
	if err != nil {
		return errs(err)
	}
	zero := 0
	c := baidupush.PlatformConfig{URL: k.botURL + PlatformPath[1:], Token: PlatformToken, EncodingAESKey: PlatformAESKey, ClientID: PlatformKey,
		Timeout: baidupush.Duration(caseTimeout), Retries: &zero}
	p, err := baidupush.NewParams()
	if err != nil {
		return errs(err)
	}
	req, _, err := baidupush.EncodePlatform(c, msg, p)
	if err != nil {
		return errs(err)
	}
	client := baidupush.NewClient()
	defer client.CloseIdleConnections()
	res := baidupush.DeliverPlatform(ctx, client, c, req, 1, baidupush.WrongSignature())
	time.Sleep(Settle)
	var out []string
	if res.Delivered() {
		out = append(out, "acknowledged a ticket push whose MsgSignature is wrong (answer 403 and do nothing)")
	}
	// The fake refuses the forged ticket (the journal hides tickets): a refused request of the
	// kit's platform is one with it.
	es, _ := k.fake.Fake.Store().Journal(ctx, store.Query{Endpoint: "tp_token"})
	for _, e := range es {
		if param(e, "client_id") == PlatformKey && !e.OK() {
			out = append(out, "asked for a platform token with the forged ticket")
			break
		}
	}
	return out
}
