package sandbox

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/pushtarget"
	"github.com/smartappmock/smartappmock/store"
)

// countingBot answers every request with body and counts them.
func countingBot(t *testing.T, body func(echo string) string) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n.Add(1)
		_, _ = io.WriteString(w, body(r.URL.Query().Get("echoStr")))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

// TestPushAllow_HandshakeRefusesTargetsOutsideTheList: a push URL outside the allow-list is
// refused with 400 and a reason that names the list and the setting, and the handshake never
// leaves (the target counts no request); inside it, the same bot is configured.
func TestPushAllow_HandshakeRefusesTargetsOutsideTheList(t *testing.T) {
	t.Parallel()
	echo := func(e string) string { return e }
	tests := []struct {
		name      string
		allow     string // "" : the default
		url       func(bot string) string
		wantCode  int
		wantErr   string
		wantCalls int32
	}{
		{"LoopbackBot_DefaultAllows", "", func(b string) string { return b }, http.StatusOK, "", 1},
		{"LocalhostName_DefaultAllows", "", func(b string) string { return strings.Replace(b, "127.0.0.1", "localhost", 1) }, http.StatusOK, "", 1},
		{"LoopbackBot_PrivateOnly_Refused", "private", func(b string) string { return b }, http.StatusBadRequest,
			`push.url: push target refused: host "127.0.0.1" is outside the list of allowed push targets (private); the fake's operator can allow more with serve --push-allow, env SMARTAPPMOCK_PUSH_ALLOW`, 0},
		{"LocalhostName_PrivateOnly_ResolvedAndRefused", "private", func(b string) string { return strings.Replace(b, "127.0.0.1", "localhost", 1) }, http.StatusBadRequest,
			`host "localhost" resolves to `, 0},
		{"PublicAddress_Refused", "", func(string) string { return "http://203.0.113.10:8080/bot" }, http.StatusBadRequest,
			`push target refused: host "203.0.113.10" is outside the list of allowed push targets (loopback,private)`, 0},
		{"MetadataService_Refused", "", func(string) string { return "http://169.254.169.254/latest/meta-data/" }, http.StatusBadRequest,
			`host "169.254.169.254" is outside the list`, 0},
		{"AdminAPIOfAFake_Refused", "", func(b string) string { return b + "/__admin/reset" }, http.StatusBadRequest,
			`is a path of a fake's admin API (/__admin/…), never a bot's`, 0},
		{"ListedAddress_Allowed", "127.0.0.1/32", func(b string) string { return b }, http.StatusOK, "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bot, calls := countingBot(t, echo)
			f := setupOpts(t, "", func(o *mockserver.Options) {
				if tc.allow != "" {
					a, err := pushtarget.Parse(tc.allow)
					if err != nil {
						t.Fatal(err)
					}
					o.PushAllow = a
				}
			})
			var out map[string]any
			code := f.admin(http.MethodPut, "/__admin/apps/1001/push", pushBody(tc.url(bot), "plain", "json", ""), &out)
			if code != tc.wantCode {
				t.Fatalf("PUT push = %d %v, want %d", code, out, tc.wantCode)
			}
			if msg, _ := out["error"].(string); tc.wantErr != "" && !strings.Contains(msg, tc.wantErr) {
				t.Errorf("error %q does not contain %q", msg, tc.wantErr)
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("the target got %d requests, want %d", got, tc.wantCalls)
			}
		})
	}
}

// TestPushAllow_ConfiguredAddressOutsideTheList_RefusedAtStart: apps[].push.url of the file is
// checked when the fake starts.
func TestPushAllow_ConfiguredAddressOutsideTheList_RefusedAtStart(t *testing.T) {
	t.Parallel()
	cfg := configtest.Parse(t, configtest.Strict+`
    push: {url: "http://203.0.113.10/bot", token: t, mode: plain}
`)
	_, err := mockserver.New(mockserver.Options{Config: cfg})
	if err == nil || !strings.Contains(err.Error(), `apps[2].push.url: push target refused: host "203.0.113.10" is outside the list of allowed push targets (loopback,private); allow it with serve --push-allow`) {
		t.Fatalf("New = %v, want the push target refused", err)
	}
}

// TestPushAllow_HandshakeEchoShortOnlyToTheCaller: a refused handshake shows the admin caller the
// first 64 bytes of what the target answered, and neither the log nor the journal holds any of
// it.
func TestPushAllow_HandshakeEchoShortOnlyToTheCaller(t *testing.T) {
	t.Parallel()
	page := "SECRET-PAGE-" + strings.Repeat("0123456789", 30) + "-END"
	bot, _ := countingBot(t, func(string) string { return page })
	log := &lockedBuffer{}
	f := setupOpts(t, "", func(o *mockserver.Options) {
		o.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	var out struct {
		Error  string `json:"error"`
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	if code := f.admin(http.MethodPut, "/__admin/apps/1001/push", pushBody(bot, "plain", "json", ""), &out); code != http.StatusUnprocessableEntity {
		t.Fatalf("PUT push = %d %+v, want 422", code, out)
	}
	if out.Body != page[:64] || !strings.Contains(out.Error, `with body "`+page[:64]+`"… (64 bytes)`) || strings.Contains(out.Error, page[:65]) {
		t.Errorf("the caller got body %q and error %q; want the first 64 bytes only", out.Body, out.Error)
	}
	if strings.Contains(log.String(), "SECRET-PAGE") {
		t.Errorf("the log holds the target's answer:\n%s", log)
	}
	journal, err := json.Marshal(f.journal(store.Query{}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(journal), "SECRET-PAGE") {
		t.Errorf("the journal holds the target's answer: %s", journal)
	}
}
