package store

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
)

// TestRecord_RoundTrip: every field of an entry comes back from its record as it went in: nil and
// empty lists apart, times with their instant and zone, strings longer than a one-byte length.
func TestRecord_RoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 30, 19, 4, 5, 123456789, time.UTC)
	full := Entry{
		Seq: 1 << 40, ID: "98404e98-257006", Time: at, AppTime: at.Add(48 * time.Hour), App: "20001", Token: "benc…#7137e16f",
		Endpoint: "send", Method: "POST", Path: smartappmock.SendPath, ContentType: "application/x-www-form-urlencoded",
		Params: []Param{
			{Name: "access_token", Value: "benc…#7137e16f", Source: "query", Used: true},
			{Name: "content", Value: strings.Repeat("你好", 300), Source: "body", Used: true},
			{Name: "open_id", Value: "", Source: "body"},
		},
		OpenID: "user-1", MsgType: "text", Layer: smartappmock.LayerBusiness, Code: 90001, OAuthError: "invalid_client", Status: 200,
		Reason: "window: reply 6 of 5", Rule: "rules[0]", Fault: "latency 1.2s + http_503 (faults[0]); cut", FaultPhase: "after",
		Warnings:      []Warning{{Kind: "open_on_first_send", Message: "window: opened by this send"}},
		LatencyMicros: 1 << 33,
	}
	tests := []struct {
		name string
		e    Entry
	}{
		{"Full", full},
		{"Zero", Entry{}},
		{"EmptyLists_NotNil", Entry{Params: []Param{}, Warnings: []Warning{}}},
		{"NegativeNumbers", Entry{Code: -1, Status: -2, LatencyMicros: -3}},
		{"LocalTime", Entry{Time: time.Unix(1_800_000_000, 5).Local(), AppTime: time.Unix(1, 0)}},
		{"FixedZone", Entry{Time: at.In(time.FixedZone("CST", 8*3600)), AppTime: at.In(time.FixedZone("", -(3*3600 + 30*60)))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecord(&tt.e)
			// The estimate holds 16 bytes per time, which takes 15 unless its zone has seconds:
			// anything else means it was off (short: append grew the buffer, a second allocation).
			if slack := cap(rec) - len(rec); slack > 2 {
				t.Errorf("record of %d bytes in a buffer of %d: the size estimate is off", len(rec), cap(rec))
			}
			got := rec.entry()
			if diff := cmp.Diff(tt.e, got); diff != "" {
				t.Errorf("entry from record (-want +got):\n%s", diff)
			}
			for i, pair := range [][2]time.Time{{tt.e.Time, got.Time}, {tt.e.AppTime, got.AppTime}} {
				_, wantOff := pair[0].Zone()
				_, gotOff := pair[1].Zone()
				if wantOff != gotOff || (pair[0].Location() == time.UTC) != (pair[1].Location() == time.UTC) {
					t.Errorf("time %d: zone %v (%d s), want %v (%d s)", i, pair[1].Location(), gotOff, pair[0].Location(), wantOff)
				}
			}
		})
	}
}

// TestRecord_SetSeq: the sequence number is written in place, and read without decoding.
func TestRecord_SetSeq(t *testing.T) {
	t.Parallel()
	rec := newRecord(&Entry{Seq: 7, ID: "a"})
	if rec.seq() != 7 {
		t.Fatalf("seq %d, want 7", rec.seq())
	}
	rec.setSeq(1<<63 + 5)
	if e := rec.entry(); e.Seq != 1<<63+5 || e.ID != "a" {
		t.Fatalf("entry %+v, want seq %d and id a", e, uint64(1<<63+5))
	}
}
