package contract_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/contract"
	"github.com/smartappmock/smartappmock/contract/report"
)

// sdkLogin is a login client written as Baidu's Go SDK sends its requests: v1 is GET with
// code, client_id and sk in the query; v2 POST with access_token and code in the query and an
// empty form; getunionid POST with the token in the query and openid in the form.
type sdkLogin struct {
	c        contract.Conn
	v2       bool
	trusting bool // a flawed client: any HTTP 200 is a success
}

type loginCodeErr int

func (e loginCodeErr) Error() string { return fmt.Sprintf("errno %d", int(e)) }
func (e loginCodeErr) Code() int     { return int(e) }

func (s sdkLogin) do(ctx context.Context, method, path string, q url.Values, form string) (map[string]any, error) {
	q.Set("sp_sdk_lang", "Go")
	q.Set("sp_sdk_ver", "0.1.2")
	req, err := http.NewRequestWithContext(ctx, method, s.c.BaseURL+path+"?"+q.Encode(), strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	if s.trusting {
		return m, nil
	}
	if n, ok := m["error_code"].(float64); ok && n != 0 {
		return nil, loginCodeErr(int(n))
	}
	if n, ok := m["errno"].(float64); ok && n != 0 {
		return nil, loginCodeErr(int(n))
	}
	return m, nil
}

func (s sdkLogin) token(ctx context.Context) (string, error) {
	m, err := s.do(ctx, http.MethodGet, "/oauth/2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {s.c.ClientID}, "client_secret": {s.c.ClientSecret}, "scope": {"smartapp_snsapi_base"}}, "")
	if err != nil {
		return "", err
	}
	t, _ := m["access_token"].(string)
	return t, nil
}

func (s sdkLogin) Login(ctx context.Context, code string) (contract.Session, error) {
	if !s.v2 {
		m, err := s.do(ctx, http.MethodGet, "/oauth/jscode2sessionkey", url.Values{"code": {code}, "client_id": {s.c.ClientID}, "sk": {s.c.ClientSecret}}, "")
		if err != nil {
			return contract.Session{}, err
		}
		o, _ := m["openid"].(string)
		k, _ := m["session_key"].(string)
		return contract.Session{OpenID: o, SessionKey: k}, nil
	}
	tok, err := s.token(ctx)
	if err != nil {
		return contract.Session{}, err
	}
	m, err := s.do(ctx, http.MethodPost, "/rest/2.0/smartapp/getsessionkey", url.Values{"access_token": {tok}, "code": {code}}, "")
	if err != nil {
		return contract.Session{}, err
	}
	d, _ := m["data"].(map[string]any)
	o, _ := d["open_id"].(string)
	k, _ := d["session_key"].(string)
	return contract.Session{OpenID: o, SessionKey: k}, nil
}

func (s sdkLogin) UnionID(ctx context.Context, openID string) (string, error) {
	tok, err := s.token(ctx)
	if err != nil {
		return "", err
	}
	m, err := s.do(ctx, http.MethodPost, "/rest/2.0/smartapp/getunionid", url.Values{"access_token": {tok}}, "openid="+url.QueryEscape(openID))
	if err != nil {
		return "", err
	}
	d, _ := m["data"].(map[string]any)
	u, _ := d["unionid"].(string)
	return u, nil
}

// TestLoginKit_SDKShapedClients: a client in the Go SDK's shapes passes every case, with v1 and
// with v2.
func TestLoginKit_SDKShapedClients(t *testing.T) {
	t.Parallel()
	for _, v2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v2=%v", v2), func(t *testing.T) {
			t.Parallel()
			contract.LoginSuite{}.Test(t, func(c contract.Conn) contract.LoginClient { return sdkLogin{c: c, v2: v2} })
		})
	}
}

// TestLoginKit_TrustingClientFails: a client that takes any HTTP 200 for a success fails the
// cases of refused codes and the guest's UnionID, and passes the others.
func TestLoginKit_TrustingClientFails(t *testing.T) {
	t.Parallel()
	rep, err := contract.LoginSuite{}.RunClient(t.Context(), "trusting", func(c contract.Conn) contract.LoginClient {
		return sdkPlatform{sdkLogin{c: c, trusting: true}}
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]report.Status{}
	for _, r := range rep.Results {
		got[r.Case] = r.Status
	}
	want := map[string]report.Status{
		"login_exchanges_code": report.StatusPass, "login_used_code_fails": report.StatusFail, "login_expired_code_fails": report.StatusFail,
		"unionid_answered": report.StatusPass, "unionid_guest_fails": report.StatusFail, "login_requests_match_openapi": report.StatusPass,
		"platform_retrieve_auth_code": report.StatusPass, "platform_retrieve_unauthorized_fails": report.StatusFail, "platform_app_info": report.StatusPass,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

// sdkPlatform adds the platform's calls in the Go SDK's shapes: the platform token by GET,
// RetrieveAuthCode POST with app_id in the form, app/info GET.
type sdkPlatform struct{ sdkLogin }

func (s sdkPlatform) RetrieveAuthCode(ctx context.Context, appID string) (string, error) {
	m, err := s.do(ctx, http.MethodGet, "/public/2.0/smartapp/auth/tp/token", url.Values{"client_id": {s.c.PlatformKey}, "ticket": {s.c.PlatformTicket}}, "")
	if err != nil {
		return "", err
	}
	d, _ := m["data"].(map[string]any)
	pt, _ := d["access_token"].(string)
	m, err = s.do(ctx, http.MethodPost, "/rest/2.0/smartapp/auth/retrieve/authorizationcode", url.Values{"access_token": {pt}}, "app_id="+url.QueryEscape(appID))
	if err != nil {
		return "", err
	}
	d, _ = m["data"].(map[string]any)
	code, _ := d["authorization_code"].(string)
	return code, nil
}

func (s sdkPlatform) AppInfo(ctx context.Context, token string) (int64, error) {
	m, err := s.do(ctx, http.MethodGet, "/rest/2.0/smartapp/app/info", url.Values{"access_token": {token}}, "")
	if err != nil {
		return 0, err
	}
	d, _ := m["data"].(map[string]any)
	id, _ := d["app_id"].(float64)
	return int64(id), nil
}

// TestLoginKit_PlatformClient: a platform client in the Go SDK's shapes passes the platform cases;
// a login client without them has them skipped.
func TestLoginKit_PlatformClient(t *testing.T) {
	t.Parallel()
	contract.LoginSuite{}.Test(t, func(c contract.Conn) contract.LoginClient { return sdkPlatform{sdkLogin{c: c}} })
	rep, err := contract.LoginSuite{Cases: []string{"platform_app_info"}}.RunClient(t.Context(), "login only", func(c contract.Conn) contract.LoginClient { return sdkLogin{c: c} })
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 || rep.Results[0].Status != report.StatusSkip {
		t.Errorf("results %+v, want platform_app_info skipped", rep.Results)
	}
}
