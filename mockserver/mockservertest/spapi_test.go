package mockservertest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver/mockservertest"
)

// TestClient_SPAPIHost: the v1 login on https://spapi.baidu.com, as Baidu's Go SDK calls it, reaches
// the fake through its proxy with a certificate the fake's CA signed.
func TestClient_SPAPIHost(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse("spapi.yaml", []byte("version: 1\napps:\n  - {id: \"1001\", client_id: key-a, client_secret: secret-a}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := mockservertest.New(t, cfg)
	l, err := s.Fake.CreateUser(context.Background(), "1001", config.User{Account: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"code": {l.Code}, "client_id": {"key-a"}, "sk": {"secret-a"}, "sp_sdk_lang": {"Go"}, "sp_sdk_ver": {"0.1.2"}}
	resp, err := s.Client().Get("https://" + smartappmock.SPAPIHost + smartappmock.JSCode2SessionKeyPath + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var got smartappmock.SessionKeyResponse
	if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != http.StatusOK || got.OpenID != l.User.OpenID || got.SessionKey != l.SessionKey {
		t.Fatalf("v1 login on spapi: %d %s (err %v)", resp.StatusCode, body, err)
	}
}
