// Package verify checks that a server — the fake, or Baidu itself — still answers as openapi.yaml
// says: a handful of safe probes (a token, a wrong secret, a bad grant, sends that cannot deliver,
// and optionally one real send), each judged against the spec and Baidu's documented codes, in a
// report.Report (package contract/report).
package verify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/contract/report"
	"github.com/smartappmock/smartappmock/internal/linediff"
	"github.com/smartappmock/smartappmock/internal/spec"
)

// Options configure Run.
type Options struct {
	// Target is the base URL of the server to check: a fake, or https://openapi.baidu.com.
	Target string
	// ClientID and ClientSecret are the app's credentials. Empty: made-up ones, which only a fake
	// in sandbox mode accepts.
	ClientID     string
	ClientSecret string
	// OpenID is the user of the one valid send (default "smartappmock-verify-user"). Against the
	// real service use a test user of your own mini program.
	OpenID string
	// NoSend leaves out the valid send, the only probe that can deliver a message.
	NoSend bool
	// HTTPClient sends the probes; nil means one with a 10-second timeout.
	HTTPClient *http.Client
}

// probe is one request of Verify and what its answer must and should be.
type probe struct {
	name  string
	doc   string
	build func(token string) (*http.Request, error)
	// status is the HTTP status the answer must have.
	status int
	// success says whether the answer must be (true) or must not be (false) a success; nil: either.
	success *bool
	// should is the Baidu answer expected, e.g. "gateway 110"; a mismatch fails a should-result.
	should string
}

func boolp(b bool) *bool { return &b }

// Run sends safe probes to a server and checks every answer (status, headers, body) against
// openapi.yaml. The probes, in order: a token with the app's credentials; a token with a wrong
// secret; a token with an unsupported grant type; a send with no token; a send with an invalid
// token (and no message fields, so it cannot deliver anything); a send with a valid token and no
// message fields; and, unless NoSend, one real text send to OpenID. Against the real service the last
// probe delivers a message (if the user's window is open) and every probe counts toward the app's
// request limits. Each probe gives a must-result (status and body valid against openapi.yaml, success
// or not as expected) and, where Baidu documents a code, a should-result (the code).
func Run(ctx context.Context, o Options) (*report.Report, error) {
	start := time.Now()
	if o.Target == "" {
		return nil, fmt.Errorf("no target")
	}
	base := strings.TrimRight(o.Target, "/")
	if _, err := url.ParseRequestURI(base); err != nil {
		return nil, fmt.Errorf("target %q is not a URL (want e.g. http://127.0.0.1:8080)", o.Target)
	}
	sp, err := spec.Embedded()
	if err != nil {
		return nil, err
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	if o.ClientID == "" {
		var rnd [6]byte
		_, _ = rand.Read(rnd[:])
		o.ClientID = "smartappmock-verify-" + hex.EncodeToString(rnd[:])
		o.ClientSecret = "verify-secret-" + hex.EncodeToString(rnd[:])
	}
	if o.OpenID == "" {
		o.OpenID = "smartappmock-verify-user"
	}
	tokenURL := func(q url.Values) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, base+smartappmock.TokenPath+"?"+q.Encode(), nil)
	}
	creds := func(secret, grant string) url.Values {
		return url.Values{"grant_type": {grant}, "client_id": {o.ClientID}, "client_secret": {secret}, "scope": {"smartapp_snsapi_base"}}
	}
	send := func(token string, form url.Values) (*http.Request, error) {
		u := base + smartappmock.SendPath
		if token != "" {
			u += "?" + url.Values{"access_token": {token}}.Encode()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return req, err
	}
	probes := []probe{
		{name: "verify_token_valid", doc: "GET /oauth/2.0/token with the app's credentials answers 200 with a token shaped as openapi.yaml says.",
			build: func(string) (*http.Request, error) { return tokenURL(creds(o.ClientSecret, "client_credentials")) }, status: http.StatusOK, success: boolp(true)},
		{name: "verify_token_bad_secret", doc: "A wrong client_secret answers HTTP 400 invalid_client with Cache-Control: no-store.",
			build: func(string) (*http.Request, error) {
				return tokenURL(creds(o.ClientSecret+"-smartappmock-wrong", "client_credentials"))
			}, status: http.StatusBadRequest, success: boolp(false), should: "oauth invalid_client"},
		{name: "verify_token_bad_grant", doc: "An unsupported grant_type answers HTTP 400 unsupported_grant_type.",
			build:  func(string) (*http.Request, error) { return tokenURL(creds(o.ClientSecret, "password")) },
			status: http.StatusBadRequest, success: boolp(false), should: "oauth unsupported_grant_type"},
		{name: "verify_send_no_token", doc: "A send with no access_token answers HTTP 200 with a gateway envelope (error_code 100).",
			build: func(string) (*http.Request, error) {
				return send("", url.Values{"user_type": {"1"}, "open_id": {o.OpenID}, "msg_type": {"text"}, "content": {"smartappmock verify"}})
			}, status: http.StatusOK, success: boolp(false), should: "gateway 100"},
		{name: "verify_send_bad_token", doc: "A send with a token of Baidu's shape that was never issued (and no message fields, so nothing can be delivered) answers HTTP 200 with error_code 110.",
			build: func(string) (*http.Request, error) {
				return send("24.00000000000000000000000000000000.2592000.0.282335-smartappmock-verify", url.Values{})
			},
			status: http.StatusOK, success: boolp(false), should: "gateway 110"},
		{name: "verify_send_missing_fields", doc: "A send with a valid token and no open_id or msg_type answers HTTP 200 with errno 3001.",
			build:  func(tok string) (*http.Request, error) { return send(tok, url.Values{"user_type": {"1"}}) },
			status: http.StatusOK, success: boolp(false), should: "business 3001"},
	}
	if !o.NoSend {
		probes = append(probes, probe{name: "verify_send_valid", doc: "One text send to the test open_id answers HTTP 200 with a valid envelope (errno 0 when the user's window is open).",
			build: func(tok string) (*http.Request, error) {
				return send(tok, url.Values{"user_type": {"1"}, "open_id": {o.OpenID}, "msg_type": {"text"}, "content": {"smartappmock contract verify: test message"}})
			}, status: http.StatusOK, should: "business 0"})
	}

	rep := &report.Report{Title: "verify " + base}
	var token string
	for _, p := range probes {
		pstart := time.Now()
		must := report.Result{Case: p.name, Grade: report.GradeMust, Doc: p.doc}
		req, err := p.build(token)
		if err != nil {
			return nil, err
		}
		status, header, body, err := roundTrip(hc, req)
		if err != nil {
			rep.Results = append(rep.Results, report.ResultOf(must, []report.Finding{{Reason: "no answer: " + err.Error()}}, time.Since(pstart)))
			continue
		}
		got := answerOf(status, body)
		if p.name == "verify_token_valid" {
			var tr smartappmock.TokenResponse
			if json.Unmarshal(body, &tr) == nil {
				token = tr.AccessToken
			}
		}
		var fs []report.Finding
		if status != p.status {
			fs = append(fs, report.Finding{Reason: fmt.Sprintf("HTTP status %d; want %d (answer: %.200s)", status, p.status, body), Diff: diffScalar(p.status, status)})
		}
		if vs := sp.CheckResponse(req, status, header, body); len(vs) > 0 {
			fs = append(fs, report.Finding{Reason: "the answer breaks openapi.yaml: " + spec.Join(vs), Diff: diffViolations(vs)})
		}
		if p.success != nil && got.ok != *p.success {
			fs = append(fs, report.Finding{Reason: fmt.Sprintf("answered %s; want success=%t", got.text, *p.success), Diff: diffScalar(*p.success, got.ok)})
		}
		elapsed := time.Since(pstart)
		rep.Results = append(rep.Results, report.ResultOf(must, fs, elapsed))
		if p.should != "" {
			sh := report.Result{Case: p.name + "_code", Grade: report.GradeShould, Doc: "The answer is " + p.should + ", as Baidu documents."}
			var fs []report.Finding
			if got.text != p.should {
				fs = append(fs, report.Finding{Reason: fmt.Sprintf("answered %s; Baidu documents %s", got.text, p.should), Diff: diffScalar(p.should, got.text)})
			}
			rep.Results = append(rep.Results, report.ResultOf(sh, fs, 0))
		}
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

func roundTrip(hc *http.Client, req *http.Request) (int, http.Header, []byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, body, err
}

type answerText struct {
	ok   bool
	text string
}

// answerOf names an answer as the journal does: "business 3001", "gateway 110", "oauth ok",
// "oauth invalid_client", or "unreadable".
func answerOf(status int, body []byte) answerText {
	var v struct {
		Errno       *int   `json:"errno"`
		ErrorCode   *int   `json:"error_code"`
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if json.Unmarshal(body, &v) != nil {
		return answerText{text: "unreadable (HTTP " + strconv.Itoa(status) + ")"}
	}
	switch {
	case v.ErrorCode != nil:
		return answerText{text: "gateway " + strconv.Itoa(*v.ErrorCode)}
	case v.Errno != nil:
		return answerText{ok: *v.Errno == 0, text: "business " + strconv.Itoa(*v.Errno)}
	case v.AccessToken != "" && status == http.StatusOK:
		return answerText{ok: true, text: "oauth ok"}
	case v.Error != "":
		return answerText{text: "oauth " + v.Error}
	}
	return answerText{text: "unrecognised (HTTP " + strconv.Itoa(status) + ")"}
}

// diffViolations diffs no violations against the answer's, one quoted line each.
func diffViolations(got []spec.Violation) string {
	lines := make([]string, len(got))
	for i, v := range got {
		lines[i] = strconv.Quote(v.String())
	}
	return linediff.Diff(nil, lines)
}

// diffScalar diffs two values of one line each (linediff.Scalar).
func diffScalar[T ~string | ~int | ~bool](want, got T) string { return linediff.Scalar(want, got) }
