package contract_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/contract"
	"github.com/smartappmock/smartappmock/contract/report"
	"github.com/smartappmock/smartappmock/examples/go/sender"
	"github.com/smartappmock/smartappmock/mockserver/mockservertest"
)

// bot is the example sender's reply path (sender.Reply), with one flaw at a time.
type bot struct {
	noFallback     bool // never falls back to the subscribe message
	alwaysConsent  bool // sends the subscribe message after every reply that reached the user
	retrySubscribe bool // retries the subscribe message on any error
	noCheck        bool // never checks the text
}

func (b bot) client(c contract.Conn) contract.Client {
	s := sender.New(c.BaseURL, c.ClientID, c.ClientSecret)
	var consent *sender.Consent
	if c.TemplateID != "" && !b.noFallback {
		consent = &sender.Consent{TemplateID: c.TemplateID, SubscribeID: c.SubscribeID}
	}
	data := map[string]string{"keyword1": "your order"}
	return contract.ClientFunc(func(ctx context.Context, m contract.Message) error {
		msg := sender.Message{UserType: m.UserType, OpenID: m.OpenID, MsgType: m.MsgType, Content: m.Content, PicURL: m.PicURL}
		err := s.Reply(ctx, msg, c.CheckText && !b.noCheck, consent, data)
		switch {
		case b.alwaysConsent && err == nil && consent != nil:
			return s.SubscribeSend(ctx, m.OpenID, *consent, data, "")
		case b.retrySubscribe && consent != nil:
			var apiErr *sender.Error
			for range 3 {
				if !errors.As(err, &apiErr) || apiErr.Number != 4007 {
					break
				}
				err = s.SubscribeSend(ctx, m.OpenID, *consent, data, "")
			}
		}
		return err
	})
}

// TestMessages_CatchesEachFlaw: the example bot passes the messages family; each flawed bot fails
// exactly the cases of its flaw.
func TestMessages_CatchesEachFlaw(t *testing.T) {
	t.Parallel()
	every := []string{"fallback_subscribe_after_90001", "fallback_without_consent_fails", "fallback_only_past_the_window",
		"check_text_blocks_risky_reply", "check_text_then_send", "requests_match_openapi", "no_sandbox_warnings"}
	cases := []struct {
		name  string
		bot   bot
		fails []string
	}{
		{"ExampleBot_PassesEveryCase", bot{}, nil},
		{"NoFallback", bot{noFallback: true}, []string{"fallback_subscribe_after_90001"}},
		{"SpendsTheConsentInsideTheWindow", bot{alwaysConsent: true}, []string{"fallback_subscribe_after_90001", "fallback_only_past_the_window"}},
		{"RetriesTheSubscribeMessage", bot{retrySubscribe: true}, []string{"fallback_without_consent_fails"}},
		{"NoCheck", bot{noCheck: true}, []string{"check_text_blocks_risky_reply", "check_text_then_send"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rep, err := contract.Suite{Family: contract.FamilyMessages}.RunClient(t.Context(), c.name, c.bot.client)
			if err != nil {
				t.Fatal(err)
			}
			got := results(rep)
			for _, name := range every {
				want := report.StatusPass
				for _, f := range c.fails {
					if f == name {
						want = report.StatusFail
					}
				}
				if got[name] != want {
					t.Errorf("case %s: %s, want %s", name, got[name], want)
				}
			}
			if t.Failed() {
				var b strings.Builder
				_ = rep.WriteText(&b)
				t.Logf("report:\n%s", b.String())
			}
		})
	}
}

// TestMessages_UnknownFamily: a family the kit does not have is a usage error.
func TestMessages_UnknownFamily(t *testing.T) {
	t.Parallel()
	_, err := contract.Suite{Family: "nope"}.RunClient(t.Context(), "x", bot{}.client)
	if err == nil {
		t.Fatal("an unknown family ran")
	}
}

// TestMessages_Target_SkipsWhatNeedsSetUp: against a running fake, the cases that need a closed
// window or a consent are skipped with the reason, and the text checks run.
func TestMessages_Target_SkipsWhatNeedsSetUp(t *testing.T) {
	t.Parallel()
	base := mockservertest.New(t, nil).URL
	rep, err := contract.Suite{Target: base, Family: contract.FamilyMessages}.RunClient(t.Context(), "target", bot{}.client)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]report.Status{
		"fallback_subscribe_after_90001": report.StatusSkip, "fallback_without_consent_fails": report.StatusSkip,
		"fallback_only_past_the_window": report.StatusSkip, "check_text_blocks_risky_reply": report.StatusPass,
		"check_text_then_send": report.StatusPass, "requests_match_openapi": report.StatusPass, "no_sandbox_warnings": report.StatusPass,
	}
	if diff := cmp.Diff(want, results(rep)); diff != "" {
		var b strings.Builder
		_ = rep.WriteText(&b)
		t.Errorf("statuses mismatch (-want +got):\n%s\n%s", diff, b.String())
	}
}
