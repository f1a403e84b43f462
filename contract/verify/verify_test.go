package verify_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/contract/report"
	"github.com/smartappmock/smartappmock/contract/verify"
	"github.com/smartappmock/smartappmock/mockserver/mockservertest"
)

func TestVerify_AgainstFake(t *testing.T) {
	t.Parallel()
	strict := &config.Config{Version: 1, Policy: config.Policy{Apps: config.AppsSandbox, Tokens: config.TokensIssued,
		Window: config.Window{Mode: config.WindowOpenOnFirstSend}}}
	baidu, err := config.Parse("baidu.yaml", []byte("version: 1\npolicy: {profile: baidu}\napps:\n  - {id: \"1001\", client_id: key, client_secret: secret, user_messages: [smartappmock-verify-user], users: [{open_id: smartappmock-verify-user}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		cfg        *config.Config
		opts       verify.Options
		wantFailed []string
	}{
		{"StrictTokens_AllPass", strict, verify.Options{}, nil},
		// The default sandbox accepts any token, but not one of Baidu's shape it never issued: the
		// bad-token probe gets error_code 110 there too, so every should-case passes.
		{"DefaultSandbox_AllPass", nil, verify.Options{}, nil},
		// --profile baidu: a configured app whose user wrote; `contract verify --strict` passes.
		{"ProfileBaidu_AllPass", baidu, verify.Options{ClientID: "key", ClientSecret: "secret"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := tc.opts
			opts.Target = mockservertest.New(t, tc.cfg).URL
			rep, err := verify.Run(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			_ = rep.WriteText(&text)
			if diff := cmp.Diff(tc.wantFailed, rep.Failed("")); diff != "" {
				t.Errorf("failed mismatch (-want +got):\n%s\n%s", diff, text.String())
			}
			if !rep.Passed() {
				t.Errorf("Passed() = false; want true:\n%s", text.String())
			}
		})
	}
}

func TestVerify_CatchesDrift(t *testing.T) {
	t.Parallel()
	// A server that answers errors with HTTP 500 and strings for numbers has drifted from the spec.
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth/2.0/token" {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"error":"server_error"}`)
			return
		}
		_, _ = io.WriteString(w, `{"errno":"0","msg":"success"}`)
	}))
	t.Cleanup(hs.Close)
	rep, err := verify.Run(t.Context(), verify.Options{Target: hs.URL, NoSend: true})
	if err != nil {
		t.Fatal(err)
	}
	failed := rep.Failed(report.GradeMust)
	sort.Strings(failed)
	want := []string{"verify_send_bad_token", "verify_send_missing_fields", "verify_send_no_token", "verify_token_bad_grant", "verify_token_bad_secret", "verify_token_valid"}
	if diff := cmp.Diff(want, failed); diff != "" {
		t.Errorf("failed must-results mismatch (-want +got):\n%s", diff)
	}
}
