package mockservertest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver/mockservertest"
	"github.com/smartappmock/smartappmock/store"
)

// sendAsSDK does what Baidu's SDKs do against the hard-coded base URL: a token by GET, then a
// form send with the token in the query. It returns the send's answer.
func sendAsSDK(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-client-id"}, "client_secret": {"demo-client-secret"}, "scope": {"smartapp_snsapi_base"}}
	resp, err := c.Get(base + smartappmock.TokenPath + "?" + q.Encode())
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	var tok smartappmock.TokenResponse
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v %+v", err, tok)
	}
	form := url.Values{"user_type": {"1"}, "open_id": {"u1"}, "msg_type": {"text"}, "content": {"hi"}, "pic_url": {""}}
	resp, err = c.PostForm(base+smartappmock.SendPath+"?access_token="+url.QueryEscape(tok.AccessToken), form)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestClient_ReachesTheFakeAsBaidu(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tls  bool
		base string
	}{
		{"HTTPListener_HTTPSBaidu", false, "https://openapi.baidu.com"},
		{"HTTPListener_HTTPBaidu", false, "http://openapi.baidu.com"},
		{"TLSListener_HTTPSBaidu", true, "https://openapi.baidu.com"},
		{"TLSListener_HTTPBaidu", true, "http://openapi.baidu.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var s *mockservertest.Server
			if tc.tls {
				s = mockservertest.NewTLS(t, nil)
			} else {
				s = mockservertest.New(t, nil)
			}
			if got := sendAsSDK(t, s.Client(), tc.base); got != `{"errno":0,"msg":"success"}` {
				t.Errorf("send answered %s", got)
			}
			es, err := s.Fake.Store().Journal(context.Background(), store.Query{App: "10001"})
			if err != nil || len(es) != 2 {
				t.Fatalf("journal: %v %d entries", err, len(es))
			}
			if diff := cmp.Diff([]string{"send", "token"}, []string{es[0].Endpoint, es[1].Endpoint}); diff != "" {
				t.Errorf("journal endpoints (-want +got):\n%s", diff)
			}
			// The fake's own URL works with the same client.
			resp, err := s.Client().Get(s.URL + "/__admin/health")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("health at %s: %s", s.URL, resp.Status)
			}
		})
	}
}

func TestTransport_RefusesEveryOtherAddress(t *testing.T) {
	t.Parallel()
	s := mockservertest.New(t, nil)
	for _, target := range []string{"https://example.com/", "http://127.0.0.1:1/", "https://baidu.com/"} {
		_, err := s.Client().Get(target)
		if err == nil || !strings.Contains(err.Error(), "refusing to dial") {
			t.Errorf("GET %s: %v, want a refusal", target, err)
		}
	}
}

func TestSwapDefaultTransport_RestoredAfterTheTest(t *testing.T) {
	before := http.DefaultTransport
	t.Run("Swapped", func(t *testing.T) {
		s := mockservertest.New(t, nil)
		s.SwapDefaultTransport(t)
		// What Baidu's Go SDK does: its own client, no transport, the hard-coded URL.
		sdkClient := &http.Client{}
		if got := sendAsSDK(t, sdkClient, smartappmock.BaiduBaseURL); got != `{"errno":0,"msg":"success"}` {
			t.Errorf("send through http.DefaultTransport answered %s", got)
		}
	})
	if http.DefaultTransport != before {
		t.Error("http.DefaultTransport was not restored")
	}
}

func TestSwapDefaultTransport_RefusedInParallelTests(t *testing.T) {
	t.Parallel()
	s := mockservertest.New(t, nil)
	defer func() {
		if recover() == nil {
			t.Error("SwapDefaultTransport ran in a parallel test")
		}
	}()
	s.SwapDefaultTransport(t)
}

func TestCAFile_IsTheCertificate(t *testing.T) {
	t.Parallel()
	s := mockservertest.New(t, nil)
	b, err := os.ReadFile(s.CAFile(t))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(s.CA.CertPEM()), string(b)); diff != "" {
		t.Errorf("CA file (-want +got):\n%s", diff)
	}
	resp, err := s.Client().Get(s.URL + "/__admin/ca")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if diff := cmp.Diff(string(s.CA.CertPEM()), string(got)); diff != "" {
		t.Errorf("GET /__admin/ca (-want +got):\n%s", diff)
	}
}

func TestClient_ConnectionFaultsReachTheClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tls    bool
		openID string
		want   error
	}{
		{"HTTPListener_Reset", false, "fault_reset", syscall.ECONNRESET},
		{"TLSListener_Reset", true, "fault_reset", syscall.ECONNRESET},
		{"HTTPListener_Empty", false, "fault_empty", io.EOF},
		{"TLSListener_Empty", true, "fault_empty", io.EOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var s *mockservertest.Server
			if tc.tls {
				s = mockservertest.NewTLS(t, nil)
			} else {
				s = mockservertest.New(t, nil)
			}
			form := url.Values{"user_type": {"1"}, "open_id": {tc.openID}, "msg_type": {"text"}, "content": {"hi"}}
			resp, err := s.Client().PostForm(smartappmock.BaiduBaseURL+smartappmock.SendPath+"?access_token=any", form)
			if err == nil {
				resp.Body.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
		})
	}
}
