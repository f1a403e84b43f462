package requestlog

import (
	"bytes"
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/store"
)

// textHandlerLine is what slog's TextHandler writes for the request record of e.
func textHandlerLine(t testing.TB, at time.Time, e *store.Entry) string {
	t.Helper()
	var buf bytes.Buffer
	if err := slog.NewTextHandler(&buf, nil).Handle(context.Background(), Record(at, e)); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// requestLineEntries are entries whose lines exercise every quoting rule of the TextHandler.
var requestLineEntries = []store.Entry{
	{ID: "0a1b2c3d-1", App: "20001", Endpoint: "send", Layer: smartappmock.LayerBusiness, Reason: "window: reply 1 of 1000000000", LatencyMicros: 12,
		Warnings: []store.Warning{store.Warning{Kind: "open_on_first_send", Message: "window: opened by this send, the user never wrote; Baidu answers 90001"}}},
	{ID: "0a1b2c3d-2", Endpoint: "send", Layer: smartappmock.LayerBusiness, Code: 3001, Reason: `user_type: must be one of 1, 2; got "3"`, LatencyMicros: -3},
	{ID: "x", Endpoint: "token", Layer: smartappmock.LayerOAuth, Reason: ""},
	{ID: "x", Endpoint: "token", Layer: smartappmock.LayerOAuth, OAuthError: "invalid_client", Reason: "client_secret: wrong"},
	{ID: "x", Endpoint: "token", Layer: smartappmock.LayerOAuth, OAuthError: "a=b", Reason: "x"},
	{ID: "x", Endpoint: "unknown", Layer: smartappmock.LayerGateway, Code: 3, Reason: "/a b is not an API of this service"},
	{ID: "", App: "", Endpoint: "", Layer: "", Reason: "tab\there, newline\nthere, cr\r, nul\x00, del\x7f, backslash\\, equals=, quote\""},
	{ID: "é", App: "中文", Endpoint: "send", Layer: "weird layer", Code: -1, Reason: "nbsp\u00a0 zero-width\u200b invalid\xff\xfe half\xe4\xb8 emoji😀 combining e\u0301 ideographic\u3000space"},
	{ID: "x", Endpoint: "send", Layer: "Layer_ok", Code: 7, Reason: "plain"},
	{ID: "x", Endpoint: "send", Layer: smartappmock.LayerBusiness, Fault: "http_503 (faults[0])", FaultKind: "http_503", FaultPhase: "before", Reason: "r"},
	{ID: "x", Endpoint: "send", Layer: smartappmock.LayerGateway, Code: 18, Fault: "latency 1.2s + truncated (faults[1]); cut after 10 bytes", FaultKind: "truncated", FaultPhase: "after"},
	{ID: "x", Endpoint: "send", Layer: smartappmock.LayerBusiness, Fault: "latency 200ms (faults[0])", FaultPhase: ""},
	{ID: "x", Endpoint: "send", Layer: smartappmock.LayerBusiness, Fault: "odd kind (x)", FaultKind: "odd kind", FaultPhase: "a b"},
	{ID: "x", Endpoint: "push", Layer: smartappmock.LayerBusiness, Warnings: []store.Warning{{Kind: "a"}, {Kind: "b c"}, {Kind: ""}}},
	{ID: "x", Endpoint: "push", Layer: smartappmock.LayerBusiness, Warnings: []store.Warning{{Kind: ""}}},
}

// TestRequestLine_AsTextHandler: the fast path writes, byte for byte, what slog's TextHandler
// writes for the request record, whatever the entry holds and whatever the time.
func TestRequestLine_AsTextHandler(t *testing.T) {
	t.Parallel()
	times := []time.Time{
		time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 999_999_999, time.FixedZone("CST", 8*3600)),
		time.Date(1999, 12, 31, 23, 59, 59, 100_000, time.FixedZone("", -90*60)),
		time.Now(),
	}
	for i := range requestLineEntries {
		e := &requestLineEntries[i]
		for _, at := range times {
			want := textHandlerLine(t, at, e)
			got := string(appendRequestLine(nil, at, e, nil))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("entry %d at %v: line mismatch (-TextHandler +fast):\n%s", i, at, diff)
			}
		}
	}
}

// TestRequestLine_CachedSecond: with the second's text cached, the time is still the
// TextHandler's, across milliseconds, seconds, zones (the cache keyed by zone too), a zone's
// change of offset and years the cache leaves alone.
func TestRequestLine_CachedSecond(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600)
	}
	base := time.Date(2026, 3, 8, 6, 59, 58, 0, time.UTC) // 01:59:58 EST, then EDT at 07:00 UTC
	var times []time.Time
	for _, step := range []time.Duration{0, 999 * time.Microsecond, time.Millisecond, 999_999_999, time.Second, 1500 * time.Millisecond, 2 * time.Second, 2*time.Second + 1} {
		at := base.Add(step)
		times = append(times, at, at.In(ny), at.Local(), at.In(time.FixedZone("", 5*3600+1800)), at)
	}
	times = append(times, time.Date(10000, 1, 1, 0, 0, 0, 5e6, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), base, time.Now(), time.Now().UTC())
	var second atomic.Pointer[logSecond]
	e := &requestLineEntries[0]
	for _, at := range times {
		want := textHandlerLine(t, at, e)
		got := string(appendRequestLine(nil, at, e, &second))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("at %v: line mismatch (-TextHandler +cached):\n%s", at, diff)
		}
	}
}

// FuzzRequestLine: for any strings in the entry, the fast path writes what the TextHandler writes.
func FuzzRequestLine(f *testing.F) {
	for _, e := range requestLineEntries {
		f.Add(e.ID, e.App, string(e.Layer), e.Code, e.Reason, e.Fault, e.FaultPhase, e.OAuthError)
	}
	at := time.Date(2026, 11, 30, 12, 0, 0, 123_456_789, time.UTC)
	f.Fuzz(func(t *testing.T, id, app, layer string, code int, reason, fault, phase, oauthErr string) {
		e := &store.Entry{ID: id, App: app, Endpoint: "send", Layer: smartappmock.Layer(layer), Code: code, Reason: reason,
			Fault: fault, FaultPhase: phase, OAuthError: oauthErr, Warnings: []store.Warning{{Kind: phase}, {Kind: app}}}
		if diff := cmp.Diff(textHandlerLine(t, at, e), string(appendRequestLine(nil, at, e, nil))); diff != "" {
			t.Errorf("line mismatch (-TextHandler +fast):\n%s", diff)
		}
	})
}
