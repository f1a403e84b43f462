package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/mockserver/sandbox"
)

// pushBotHandler is a careful bot for the scripts and the dry-run test: it echoes the handshake
// and opens every push with baidupush.Open under the token, key and client id it was given, the
// mode, format and envelope read off the push itself. It answers "success" to a push it could
// verify (and decrypt), 403 with the reason otherwise. seen, when set, is told each opened push.
func pushBotHandler(token, aesKey, clientID string, seen func(baidupush.Opened)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		q := r.URL.Query()
		if echo := q.Get(baidupush.ParamEchoStr); echo != "" {
			if !baidupush.VerifySignature(token, q.Get(baidupush.ParamTimestamp), q.Get(baidupush.ParamNonce), q.Get(baidupush.ParamSignature)) {
				http.Error(w, "wrong signature", http.StatusForbidden)
				return
			}
			_, _ = io.WriteString(w, echo)
			return
		}
		c := baidupush.Config{Token: token, EncodingAESKey: aesKey, ClientID: clientID, Mode: baidupush.ModePlain, Format: baidupush.FormatXML}
		if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
			c.Format = baidupush.FormatJSON
		}
		switch s := string(body); {
		case strings.Contains(s, "MsgSignature"):
			c.Mode, c.Envelope = baidupush.ModeSecure, baidupush.EnvelopeBody
		case strings.Contains(s, "Encrypt") && strings.Contains(s, "MsgType"):
			c.Mode = baidupush.ModeCompatible
		case strings.Contains(s, "Encrypt"):
			c.Mode = baidupush.ModeSecure
		}
		o, err := baidupush.Open(c, q, body)
		if err != nil {
			http.Error(w, "refused: "+err.Error(), http.StatusForbidden)
			return
		}
		if seen != nil {
			seen(o)
		}
		_, _ = io.WriteString(w, "success")
	})
}

// cmdPushBot is the script command "pushbot VAR TOKEN [AESKEY CLIENTID]": a pushBotHandler on
// loopback, its URL (with a trailing /) in $VAR.
func cmdPushBot(ts *testscript.TestScript, neg bool, args []string) {
	if neg || (len(args) != 2 && len(args) != 4) {
		ts.Fatalf("usage: pushbot VAR TOKEN [AESKEY CLIENTID]")
	}
	key, id := "", ""
	if len(args) == 4 {
		key, id = args[2], args[3]
	}
	srv := httptest.NewServer(pushBotHandler(args[1], key, id, nil))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL+"/")
}

// cmdCall is the script command "call METHOD URL [BODY]": the status line, then the body.
func cmdCall(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: call METHOD URL [BODY]")
	}
	var body io.Reader
	if len(args) == 3 {
		body = strings.NewReader(args[2])
	}
	req, err := http.NewRequest(args[0], args[1], body)
	ts.Check(err)
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%s\n%s", resp.Status, b)
}

// cmdFakeConfig is the script command "fakeconfig VAR FILE": an in-process fake with the
// configuration in FILE (of the script's directory): its URL in $VAR, host:port in $VAR_ADDR.
func cmdFakeConfig(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: fakeconfig VAR FILE")
	}
	cfg, err := config.Parse(args[1], []byte(os.Expand(ts.ReadFile(args[1]), ts.Getenv)))
	ts.Check(err)
	srv, err := sandbox.New(mockserver.Options{Config: cfg}, admin.Options{})
	ts.Check(err)
	hs := httptest.NewServer(srv)
	ts.Defer(hs.Close)
	ts.Setenv(args[0], hs.URL)
	ts.Setenv(args[0]+"_ADDR", hs.Listener.Addr().String())
}

// cmdPlatformBot is the script command "platformbot VAR TOKEN AESKEY KEY": a platform's
// authorization-event URL that verifies and decrypts with baidupush.OpenPlatform and answers
// "success" (403 otherwise): its URL in $VAR.
func cmdPlatformBot(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: platformbot VAR TOKEN AESKEY KEY")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, err := baidupush.OpenPlatform(args[1], args[2], args[3], body); err != nil {
			http.Error(w, "refused: "+err.Error(), http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, "success")
	}))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL+"/")
}
