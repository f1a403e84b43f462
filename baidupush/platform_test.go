package baidupush

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/internal/testenv"
)

// The test vector of docs/baidu-push.md (generated and cross-checked with Python and
// PHP/OpenSSL: Baidu publishes none for a known key).
const (
	vectorKey     = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	vectorTrailer = "OdxUiUVpVxH2Ai7G02cIjXGnnnMEUntD"
	vectorMessage = `{"Ticket":"8c0da4968b0d1e28acbc1d738a56607d","FromUserName":"SmartAPP","CreateTime":1413192605,"MsgType":"ticket","Event":"push"}`
	vectorEncrypt = "Q3stYC6hdFzMh9T8HCvyDIRkcTvEpb7M80eIPHCPpV0MZK0BFJmf7zU3PFzDdPg3t6TJhIrlJlldE4iCyD0zuEx/0X+JS2wS/eSP6llZjNSLAG+sarR+SHmQUrENRchH4sCQ/TpFmlnYQSDDLxUfWzMhrvySLPkWeSPkFv/mImGTUUs67GvTwiil5Z2yZb+jdXR0GGqx1fDAuj03kqW/HyZCKK8C410+zjVXVQk4WrlyjF6PF4qyOwO4izBa2goQ"
	vectorSig     = "027a8dc63c3c834e4db5dbb0f630bdd65e536b48"
)

func TestEncodePlatform_TestVector(t *testing.T) {
	t.Parallel()
	msg, err := MarshalPlatform(TicketMessage{Ticket: "8c0da4968b0d1e28acbc1d738a56607d", FromUserName: PlatformFromUserName,
		CreateTime: 1413192605, MsgType: MsgTypeTicket, Event: EventPush})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(vectorMessage, string(msg)); diff != "" {
		t.Fatalf("ticket message mismatch (-Baidu's sample +got):\n%s", diff)
	}
	p := Params{Timestamp: "1535551395", Nonce: "4464221", Random: [RandomSize]byte([]byte("0123456789abcdef"))}
	r, enc, err := EncodePlatform(PlatformConfig{Token: "mytoken", EncodingAESKey: vectorKey, ClientID: vectorTrailer}, msg, p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Nonce":"4464221","TimeStamp":"1535551395","Encrypt":"` + vectorEncrypt + `","MsgSignature":"` + vectorSig + `"}`
	if diff := cmp.Diff(want, string(r.Body)); diff != "" || enc != vectorEncrypt || len(r.Query) != 0 {
		t.Errorf("envelope mismatch (-want +got):\n%s\nquery %v", diff, r.Query)
	}
	got, err := OpenPlatform("mytoken", vectorKey, vectorTrailer, r.Body)
	if err != nil || string(got) != vectorMessage {
		t.Errorf("OpenPlatform = %s, %v", got, err)
	}
	if _, err := OpenPlatform("mytoken", vectorKey, "another-platform", r.Body); err == nil {
		t.Error("OpenPlatform accepted a foreign trailing id")
	}
	if _, err := OpenPlatform("not-the-token", vectorKey, "", r.Body); err == nil {
		t.Error("OpenPlatform accepted a wrong token")
	}
}

func TestDeliverPlatform_AcknowledgedAndRetried(t *testing.T) {
	t.Parallel()
	calls := 0
	var got []byte
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		body, _ := io.ReadAll(r.Body)
		if calls == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		m, err := OpenPlatform("tp-token", vectorKey, "tp-key", body)
		if err != nil || r.URL.RawQuery != "" {
			http.Error(w, fmt.Sprint(err, r.URL.RawQuery), http.StatusForbidden)
			return
		}
		got = m
		_, _ = io.WriteString(w, "success")
	}))
	defer bot.Close()
	msg := []byte(`{"appId":10001,"tpAppId":123,"eventTime":"2019-01-14 12:45:10","event":"UNAUTHORIZED"}`)
	c := PlatformConfig{URL: bot.URL, Token: "tp-token", EncodingAESKey: vectorKey, ClientID: "tp-key"}
	p, err := NewParams()
	if err != nil {
		t.Fatal(err)
	}
	req, _, err := EncodePlatform(c, msg, p)
	if err != nil {
		t.Fatal(err)
	}
	res := DeliverPlatform(context.Background(), nil, c, req, 42)
	if !res.Delivered() || len(res.Attempts) != 2 || res.MsgID != 42 {
		t.Fatalf("DeliverPlatform = %+v; want delivered on the second attempt", res)
	}
	if string(got) != string(msg) {
		t.Errorf("the platform read %s; want %s", got, msg)
	}
}

// TestPython_DecodesPlatformPushes: the ticket and the three authorization events, encoded as the
// fake pushes them to a platform, are verified and decrypted by the independent decoder of
// testdata/baidu_decode.py (Baidu's steps, not this package) to the same JSON, with paddings over
// 16 bytes among them.
func TestPython_DecodesPlatformPushes(t *testing.T) {
	t.Parallel()
	python := testenv.Require(t, "python3", "apt-get install python3")
	c := PlatformConfig{Token: "tp-token", EncodingAESKey: vectorKey, ClientID: "tp-platform-key"}
	msgs := map[string]any{
		"ticket": TicketMessage{Ticket: "ticket-1", FromUserName: PlatformFromUserName, CreateTime: 1714036504, MsgType: MsgTypeTicket, Event: EventPush},
		"authorized": AuthorizationEvent{AppID: int64(10001), TPAppID: int64(12345678), EventTime: "2024-04-25 17:15:04", Event: EventAuthorized,
			AuthorizationCode: "f5a09b58eb2dc01c728182d097808145", AuthorizationCodeExpiresIn: 1200},
		"unauthorized": AuthorizationEvent{AppID: int64(10001), TPAppID: int64(12345678), EventTime: "2024-04-25 17:15:04", Event: EventUnauthorized},
		"update_authorized": AuthorizationEvent{AppID: "sandbox-app", TPAppID: int64(12345678), EventTime: "2024-04-25 17:15:04", Event: EventUpdateAuthorized,
			AuthorizationCode: "0123456789abcdef0123456789abcdef", AuthorizationCodeExpiresIn: 1200},
	}
	var in struct {
		Cases []pyCase `json:"cases"`
	}
	want := map[string]string{}
	pads := 0
	for name, m := range msgs {
		msg, err := MarshalPlatform(m)
		if err != nil {
			t.Fatal(err)
		}
		for n := range 32 { // every padding from 1 to 32: the message grows by one byte each time
			padded := msg
			if n > 0 {
				padded = append(bytes.TrimSuffix(bytes.Clone(msg), []byte("}")), []byte(`,"x":"`+strings.Repeat("p", n)+`"}`)...)
			}
			p := fixedParams
			copy(p.Random[:], name)
			r, _, err := EncodePlatform(c, padded, p)
			if err != nil {
				t.Fatal(err)
			}
			caseName := fmt.Sprintf("%s_%02d", name, n)
			want[caseName] = string(padded)
			if padOf(len(padded), c.ClientID) > 16 {
				pads++
			}
			in.Cases = append(in.Cases, pyCase{Name: caseName, Token: c.Token, EncodingAESKey: c.EncodingAESKey, ClientID: c.ClientID,
				Format: FormatJSON, Query: map[string]string{}, Body: string(r.Body), Raw: true})
		}
	}
	stdin, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), python, "testdata/baidu_decode.py")
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("baidu_decode.py: %v\n%s", err, stderr.String())
	}
	var got struct {
		Results []pyResult `json:"results"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Results) != len(want) || pads < 16 {
		t.Fatalf("Python decoded %d pushes (%d with padding over 16); want %d", len(got.Results), pads, len(want))
	}
	for _, res := range got.Results {
		if res.Error != nil || res.MsgSignatureOK == nil || !*res.MsgSignatureOK || res.ClientIDOK == nil || !*res.ClientIDOK ||
			res.SignatureOK != nil || res.Raw == nil || *res.Raw != want[res.Name] {
			t.Errorf("%s: Python decoder: error %v, msg_signature_ok %v, client_id_ok %v, signature_ok %v, raw %v; want %s",
				res.Name, deref(res.Error), deref(res.MsgSignatureOK), deref(res.ClientIDOK), res.SignatureOK, deref(res.Raw), want[res.Name])
		}
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
