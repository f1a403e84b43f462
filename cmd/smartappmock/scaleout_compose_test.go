package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestScaleOut_ComposeSandbox checks docker-compose.scale.yml brought up for real: sends through
// its HAProxy land on all three replicas, and the window is exact across them (300 concurrent
// sends to one open_id, 5 successes). scripts/container-test.sh brings the stack up under podman
// and sets SMARTAPPMOCK_SCALE_TARGET to HAProxy's published address; without it the test skips
// (it needs a running stack, not a program on PATH).
func TestScaleOut_ComposeSandbox(t *testing.T) {
	base := os.Getenv("SMARTAPPMOCK_SCALE_TARGET")
	if base == "" {
		t.Skip("needs SMARTAPPMOCK_SCALE_TARGET, the address of docker-compose.scale.yml's HAProxy (scripts/container-test.sh sets it)")
	}
	// The app and user of deploy/compose/smartappmock.yaml: u-alice has written, so her window
	// allows 5 replies.
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {"compose-client-id"}, "client_secret": {"compose-client-secret"}}
	resp, err := sendClient.Get(base + "/oauth/2.0/token?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token through HAProxy: HTTP %d %s", resp.StatusCode, body)
	}

	const n = 300
	answers := sendConcurrently(t, n, n, func(int) sendArgs {
		return sendArgs{base: base, token: tok.AccessToken, openID: "u-alice"}
	})
	want := map[string]int{"business 0": 5, "business 90001": n - 5}
	if diff := cmp.Diff(want, countCodes(answers)); diff != "" {
		t.Errorf("%d concurrent sends to one open_id through HAProxy: codes mismatch (-want +got):\n%s", n, diff)
	}
	servedBy := map[string]int{}
	for _, a := range answers {
		servedBy[a.header.Get("X-Served-By")]++
	}
	t.Logf("successes: %d of %d; spread over the replicas: %v", countCodes(answers)["business 0"], n, servedBy)
	for _, r := range []string{"replica1", "replica2", "replica3"} {
		if servedBy[r] == 0 {
			t.Errorf("HAProxy sent no send to %s: %v", r, servedBy)
		}
	}
	if a := answers[0]; a.status != http.StatusOK {
		t.Errorf("HTTP %d, want 200", a.status)
	}
}
