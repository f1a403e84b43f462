package contract_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/contract"
	"github.com/smartappmock/smartappmock/contract/report"
	"github.com/smartappmock/smartappmock/mockserver"
)

// tpClient is a third-party platform's client of custom/sendbytp, as Baidu's SDKs drive it: the
// platform token from key and ticket, the authorization code exchanged once, the authorizer token
// cached and refreshed once (with its single-use refresh token) on 110/111.
type tpClient struct {
	c             contract.Conn
	hc            *http.Client
	access, refr  string
	platformToken string
}

func (p *tpClient) get(ctx context.Context, path string, q url.Values, out any) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.c.BaseURL+path+"?"+q.Encode(), nil)
	resp, err := p.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
}

func (p *tpClient) authorizerToken(ctx context.Context, refresh bool) error {
	if p.platformToken == "" {
		var env struct {
			Data struct {
				AccessToken string `json:"access_token"`
			} `json:"data"`
		}
		if _, err := p.get(ctx, smartappmock.TPTokenPath, url.Values{"client_id": {p.c.PlatformKey}, "ticket": {p.c.PlatformTicket}}, &env); err != nil {
			return err
		}
		p.platformToken = env.Data.AccessToken
	}
	q := url.Values{"access_token": {p.platformToken}, "grant_type": {smartappmock.GrantAppToTPCode}, "code": {p.c.AuthorizationCode}}
	if refresh {
		q = url.Values{"access_token": {p.platformToken}, "grant_type": {smartappmock.GrantAppToTPRefresh}, "refresh_token": {p.refr}}
	}
	var tok smartappmock.AuthorizerTokenResponse
	status, err := p.get(ctx, smartappmock.TPOAuthPath, q, &tok)
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("authorizer token: HTTP %d %v", status, err)
	}
	p.access, p.refr = tok.AccessToken, tok.RefreshToken
	return nil
}

type tpCodeErr struct{ code int }

func (e tpCodeErr) Error() string { return fmt.Sprintf("code %d", e.code) }
func (e tpCodeErr) Code() int     { return e.code }

func (p *tpClient) once(ctx context.Context, m contract.Message) (int, error) {
	form := url.Values{"user_type": {fmt.Sprint(m.UserType)}, "open_id": {m.OpenID}, "msg_type": {m.MsgType}, "content": {m.Content}, "pic_url": {m.PicURL}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.c.BaseURL+smartappmock.SendByTPPath+"?access_token="+url.QueryEscape(p.access), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var env struct {
		Errno     *int `json:"errno"`
		ErrorCode *int `json:"error_code"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return 0, err
	}
	switch {
	case env.ErrorCode != nil:
		return *env.ErrorCode, nil
	case env.Errno != nil:
		return *env.Errno, nil
	}
	return 0, errors.New("no code")
}

func (p *tpClient) Send(ctx context.Context, m contract.Message) error {
	if p.access == "" {
		if err := p.authorizerToken(ctx, false); err != nil {
			return err
		}
	}
	code, err := p.once(ctx, m)
	if err == nil && (code == smartappmock.CodeInvalidAccessToken || code == smartappmock.CodeAccessTokenExpired) {
		if err := p.authorizerToken(ctx, true); err != nil {
			return err
		}
		code, err = p.once(ctx, m)
	}
	switch {
	case err != nil:
		return err
	case code != 0:
		return tpCodeErr{code}
	}
	return nil
}

// sendByTPWired reports whether the API core dispatches the third-party operations yet.
func sendByTPWired(t *testing.T) bool {
	t.Helper()
	srv, err := mockserver.New(mockserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, smartappmock.TPTokenPath+"?client_id=k&ticket=t", nil))
	return rec.Header().Get(smartappmock.HeaderOutcome) != "gateway 3"
}

// TestRunClient_SendByTP: `--endpoint sendbytp` drives a third-party platform's client through the
// catalogue, and a good one passes.
func TestRunClient_SendByTP(t *testing.T) {
	t.Parallel()
	if !sendByTPWired(t) {
		t.Skip("the API core does not dispatch the third-party operations yet (server.go: spec.OpTPToken, OpPreAuthCode, OpTPOAuth, OpSendByTP)")
	}
	good := func(c contract.Conn) contract.Client {
		return &tpClient{c: c, hc: &http.Client{Timeout: 2 * time.Second}}
	}
	cases := []string{"text_delivered", "image_delivered", "errno_90001_fails_without_retry", "token_reused", "token_110_refreshed_once",
		"window_sixth_send_90001", "lost_ack_not_resent", "requests_match_openapi", "send_form_encoded", "token_in_query", "no_sandbox_warnings"}
	s := contract.Suite{Cases: cases, Endpoint: contract.EndpointSendByTP, SendTimeout: 10 * time.Second}
	rep, err := s.RunClient(t.Context(), "tp", good)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Status != report.StatusPass {
			t.Errorf("%s: %s: %s\n%s", r.Case, r.Status, r.Reason, r.Details)
		}
	}
}

func TestSuite_UnknownEndpointIsAnError(t *testing.T) {
	t.Parallel()
	_, err := contract.Suite{Endpoint: "sendbyapp"}.RunClient(t.Context(), "x", func(contract.Conn) contract.Client { return nil })
	if err == nil || !strings.Contains(err.Error(), `unknown endpoint "sendbyapp"`) {
		t.Errorf("err = %v", err)
	}
}
