package store

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
)

// TestStoredEntry_RoundTrip: an entry comes back from the journal's encoding as it went in (its
// times Equal, their zones kept), nil and empty lists told apart, strings of any length and bytes.
func TestStoredEntry_RoundTrip(t *testing.T) {
	t.Parallel()
	now := time.Now()
	long := strings.Repeat("é", 5000) + "\x00\xff"
	tests := []Entry{
		{},
		{Params: []Param{}, Warnings: []Warning{}},
		{Seq: 7, ID: "ab-1", Time: now, AppTime: now.Add(48 * time.Hour), App: "20001", Token: "bench…#0011aabb", Endpoint: "send",
			Method: "POST", Path: smartappmock.SendPath, ContentType: "application/x-www-form-urlencoded",
			Params: []Param{{Name: "access_token", Value: "x", Source: "query", Used: true}, {Name: "open_id", Value: "", Source: "body"}},
			OpenID: "u", MsgType: "text", Layer: smartappmock.LayerBusiness, Code: 3001, Status: 200, Reason: long, Rule: "r",
			Warnings: []Warning{{Kind: "open_on_first_send", Message: "m"}}, LatencyMicros: -5},
		{Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("CST", 8*3600)), AppTime: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
			Layer: smartappmock.LayerOAuth, OAuthError: "invalid_client", Fault: "latency 1s + http_503 (faults[0]); held", FaultPhase: "after",
			Params: []Param{{Name: long, Value: long, Source: "note"}}},
		{Time: time.Date(3000, 12, 31, 23, 59, 59, 999_999_999, time.Local), AppTime: time.Date(1500, 1, 1, 0, 0, 0, 1, time.UTC)},
	}
	for i, e := range tests {
		st := storeEntry(&e)
		got := st.entry()
		if diff := cmp.Diff(e, got); diff != "" {
			t.Errorf("entry %d: round trip mismatch (-in +out):\n%s", i, diff)
		}
		if got.Time.Location() != e.Time.Location() || got.AppTime.Location() != e.AppTime.Location() {
			t.Errorf("entry %d: zones %v %v, want %v %v", i, got.Time.Location(), got.AppTime.Location(), e.Time.Location(), e.AppTime.Location())
		}
	}
}
