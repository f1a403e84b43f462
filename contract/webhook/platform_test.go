package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/contract/webhook"
)

// goPlatform is a third-party platform's receiver: it verifies and decrypts each push with
// baidupush.OpenPlatform, gets a platform token with a pushed ticket, and exchanges the
// authorization code of AUTHORIZED, unless its flaw says otherwise.
type goPlatform struct {
	env  webhook.Env
	flaw flaw

	mu    sync.Mutex
	token string // the platform token (42.)
}

const (
	ignorePlatformSignature flaw = "ignore_platform_signature" // acts on any platform push
	noExchange              flaw = "no_exchange"               // acknowledges AUTHORIZED, keeps the code
)

// client makes no keep-alive connections: nothing outlives a test (goleak).
var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func (p *goPlatform) get(path string, q url.Values, out any) {
	resp, err := client.Get(p.env.BaseURL + path + "?" + q.Encode())
	if err != nil {
		return
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(out)
}

func (p *goPlatform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != webhook.PlatformPath {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	msg, err := baidupush.OpenPlatform(p.env.PlatformToken, p.env.PlatformAESKey, p.env.PlatformKey, body)
	if err != nil && p.flaw == ignorePlatformSignature {
		var env struct{ Encrypt string }
		_ = json.Unmarshal(body, &env)
		var d baidupush.Decrypted
		if d, err = baidupush.Decrypt(p.env.PlatformAESKey, env.Encrypt); err == nil {
			msg = d.Msg
		}
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	var m struct {
		Ticket, MsgType   string
		Event             string `json:"event"`
		AuthorizationCode string `json:"authorizationCode"`
	}
	if err := json.Unmarshal(msg, &m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch {
	case m.MsgType == baidupush.MsgTypeTicket:
		var tok struct {
			Data struct {
				AccessToken string `json:"access_token"`
			} `json:"data"`
		}
		p.get(smartappmock.TPTokenPath, url.Values{"client_id": {p.env.PlatformKey}, "ticket": {m.Ticket}}, &tok)
		p.mu.Lock()
		if tok.Data.AccessToken != "" {
			p.token = tok.Data.AccessToken
		}
		p.mu.Unlock()
	case m.AuthorizationCode != "" && p.flaw != noExchange:
		p.mu.Lock()
		token := p.token
		p.mu.Unlock()
		var out map[string]any
		p.get(smartappmock.TPOAuthPath, url.Values{"access_token": {token}, "grant_type": {smartappmock.GrantAppToTPCode}, "code": {m.AuthorizationCode}}, &out)
	}
	_, _ = io.WriteString(w, "success")
}

func TestRunHandler_Platform_FailsExactlyTheFlawedCases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		flaw flaw
		want []string
	}{
		{"GoodReceiver_PassesEveryCase", noFlaw, nil},
		{"IgnoresSignature_FailsForged", ignorePlatformSignature, []string{"platform_wrong_signature_ignored"}},
		{"NoExchange_FailsCodeExchanged", noExchange, []string{"platform_authorized_code_exchanged"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep, err := webhook.Suite{Platform: true}.RunHandler(context.Background(), func(e webhook.Env) http.Handler {
				return &goPlatform{env: e, flaw: tc.flaw}
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, rep.Failed("")); diff != "" {
				var b strings.Builder
				_ = rep.WriteText(&b)
				t.Errorf("failed cases mismatch (-want +got):\n%s\n%s", diff, b.String())
			}
			if len(rep.Results) != len(webhook.PlatformCases()) {
				t.Errorf("%d results; want every platform case", len(rep.Results))
			}
		})
	}
}

// A mini program's bot is not a platform's receiver: every must-case of the platform fails.
func TestRunHandler_Platform_BotWithoutReceiverFails(t *testing.T) {
	t.Parallel()
	rep, err := webhook.Suite{Platform: true, Cases: []string{"platform_ticket_acknowledged", "platform_unauthorized_acknowledged"}}.RunHandler(context.Background(),
		func(e webhook.Env) http.Handler { return &goBot{env: e, seen: map[int64]bool{}} })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"platform_ticket_acknowledged", "platform_unauthorized_acknowledged"}, rep.Failed("")); diff != "" {
		t.Errorf("failed cases mismatch (-want +got):\n%s", diff)
	}
}
