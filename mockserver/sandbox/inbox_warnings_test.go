package sandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// TestInboxEntries_FaultAndWarnings: the inbox marks a message with its warnings and shows the
// fault with its phase; a message a before-phase fault stopped is not shown as delivered.
func TestInboxEntries_FaultAndWarnings(t *testing.T) {
	t.Parallel()
	f := newInboxFake(t, "")
	warn := mockserver.WarnOpenOnFirstSend.Warning()
	base := store.Entry{App: "1001", Endpoint: "send", Method: http.MethodPost, Path: smartappmock.SendPath,
		OpenID: "user-a", MsgType: "text", Layer: smartappmock.LayerBusiness, Code: 0, Status: 200, Params: []store.Param{}}
	entries := []store.Entry{base, base, base}
	entries[0].Fault, entries[0].FaultPhase, entries[0].Status = "http_503 (faults[0])", "before", 503
	entries[1].Fault, entries[1].FaultPhase = "truncated (faults[1])", "after"
	entries[2].Warnings = []store.Warning{warn}
	for _, e := range entries {
		if _, err := f.srv.Core.Store().Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	res, body := f.get(noRedirects(nil), "/__admin/ui/api/entries?app=1001", f.token)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("entries: %d %s", res.StatusCode, body)
	}
	type item struct {
		OK         bool            `json:"ok"`
		Fault      string          `json:"fault"`
		FaultPhase string          `json:"fault_phase"`
		Warnings   []store.Warning `json:"warnings"`
	}
	var out struct{ Entries []item }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	want := []item{
		{OK: false, Fault: "http_503 (faults[0])", FaultPhase: "before"},
		{OK: true, Fault: "truncated (faults[1])", FaultPhase: "after"},
		{OK: true, Warnings: []store.Warning{warn}},
	}
	if diff := cmp.Diff(want, out.Entries); diff != "" {
		t.Errorf("inbox items mismatch (-want +got):\n%s", diff)
	}
}
