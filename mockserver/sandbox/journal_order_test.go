package sandbox

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver/params"
	"github.com/smartappmock/smartappmock/store"
)

// journalCheckingWriter fails the test if, when the answer starts, the journal lacks the request.
type journalCheckingWriter struct {
	*httptest.ResponseRecorder
	t       *testing.T
	f       *fixture
	checked bool
}

func (w *journalCheckingWriter) WriteHeader(code int) {
	id := w.Header().Get(smartappmock.HeaderRequestID)
	found := false
	for _, e := range w.f.journal(store.Query{}) {
		if e.ID == id {
			found = true
		}
	}
	if !found {
		w.t.Errorf("answer %s started before its journal entry was recorded", id)
	}
	w.checked = true
	w.ResponseRecorder.WriteHeader(code)
}

// TestJournalBeforeAnswer: a client that reads the journal as soon as it has its answer always
// finds its request (CI pipelines and the contract kit rely on this).
func TestJournalBeforeAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, method, target, contentType, body string }{
		{"Send", http.MethodPost, smartappmock.SendPath + "?access_token=static-token-a", "application/x-www-form-urlencoded", text("user-a", "hi").Encode()},
		{"SendError", http.MethodPost, smartappmock.SendPath, "application/x-www-form-urlencoded", ""},
		{"Token", http.MethodGet, smartappmock.TokenPath + "?grant_type=client_credentials&client_id=key-a&client_secret=secret-a", "", ""},
		{"TokenError", http.MethodGet, smartappmock.TokenPath, "", ""},
		{"UnknownPath", http.MethodGet, "/nowhere", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, "")
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			w := &journalCheckingWriter{ResponseRecorder: httptest.NewRecorder(), t: t, f: f}
			f.srv.ServeHTTP(w, req)
			if !w.checked {
				t.Error("WriteHeader was never called")
			}
		})
	}
}

// TestJournalClipsLongValues: a 1 MiB content is answered on its merits but the journal keeps only
// params.MaxJournalValue bytes of it (cut on a rune boundary), so the journal's memory stays bounded.
func TestJournalClipsLongValues(t *testing.T) {
	t.Parallel()
	f := setup(t, "")
	long := strings.Repeat("好", 100_000) // 300 KB of UTF-8, 900 KB urlencoded: under the body limit
	res := f.sendForm("static-token-a", text("user-a", long))
	if got := res.outcome(t); got != okMsg {
		t.Fatalf("long content: %+v (%s)", got, res.Header.Get(smartappmock.HeaderReason))
	}
	es := f.journal(store.Query{App: "1001"})
	var content string
	for _, p := range es[0].Params {
		if p.Name == "content" {
			content = p.Value
		}
	}
	if len(content) > params.MaxJournalValue+40 || !strings.HasSuffix(content, " bytes, cut)") || !utf8.ValidString(content) {
		t.Errorf("journaled content: %d bytes, ends %q, valid UTF-8 %v", len(content), content[max(0, len(content)-30):], utf8.ValidString(content))
	}
	if !strings.HasPrefix(content, "好好好") {
		t.Errorf("journaled content lost its start: %q", content[:min(len(content), 20)])
	}
}
