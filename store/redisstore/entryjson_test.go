package redisstore

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/storetest"
)

// entryJSONCases are entries that exercise every field of store.Entry: empty and set optional
// fields, nil and empty slices, strings that encoding/json escapes, times in zones and out of
// its range.
func entryJSONCases() map[string]store.Entry {
	at := time.Date(2026, 11, 30, 13, 49, 1, 123456789, time.FixedZone("", 8*3600))
	full := store.Entry{Seq: 42, ID: "1a00e2a0-1", Time: at.UTC(), AppTime: at, App: "20001", Token: "benc…#7137e16f",
		Endpoint: "send", Method: "POST", Path: "/rest/2.0/smartapp/message/custom/send", ContentType: "application/x-www-form-urlencoded",
		Params: []store.Param{{Name: "open_id", Value: "u", Source: "body", Used: true}, {Name: "content", Value: "你好 <b>&\"\\\n\x01\u2028", Source: "query"}},
		OpenID: "u", MsgType: "text", Layer: "business", Code: 90001, OAuthError: "invalid_client", Status: 200,
		Reason: "window: 5 of 5 replies", Rule: "r1", Fault: "http_503 (faults[0])", FaultPhase: "after",
		Warnings:      []store.Warning{{Kind: "open_on_first_send", Message: "window: opened by this send"}, {Kind: "k\x00", Message: "bad \xff utf-8"}},
		LatencyMicros: -7,
		Push: &store.PushAttempt{MsgID: 1_000_000_000_000_001, Attempt: 2, Attempts: 3, Mode: "secure", Duplicate: true,
			Answer: "success <b>\x00\xff", Faults: []string{"duplicate", "k\u2028"}}}
	return map[string]store.Entry{
		"zero":                   {},
		"every field":            full,
		"push of a user message": {Time: at, Endpoint: store.EndpointUserMessage, Push: &store.PushAttempt{MsgID: 7}},
		"push with empty faults": {Time: at, Push: &store.PushAttempt{MsgID: -1, Attempt: -2, Attempts: -3, Faults: []string{}}},
		"empty params":           {Params: []store.Param{}, Time: at, AppTime: at},
		"empty warnings omitted": {Warnings: []store.Warning{}, Time: at},
		"whole seconds":          {Time: time.Unix(1700000000, 0).UTC(), AppTime: time.Unix(1700000000, 0).In(time.FixedZone("", -3*3600-1800))},
		"year 10000":             {Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"negative year":          {AppTime: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		"zone of 25 hours":       {Time: at, AppTime: time.Unix(1700000000, 0).In(time.FixedZone("", 25*3600))},
		"zone of minus 24 hours": {Time: time.Unix(1700000000, 0).In(time.FixedZone("", -24*3600)), AppTime: at},
		"zone of 23:59":          {Time: time.Unix(1700000000, 0).In(time.FixedZone("", 23*3600+59*60)), AppTime: at},
	}
}

// TestAppendEntryJSON_SameAsMarshal: appendEntryJSON writes what json.Marshal writes, byte for
// byte, or fails where it fails.
func TestAppendEntryJSON_SameAsMarshal(t *testing.T) {
	for name, e := range entryJSONCases() {
		t.Run(name, func(t *testing.T) {
			checkEntryJSON(t, e)
		})
	}
}

func checkEntryJSON(t *testing.T, e store.Entry) {
	t.Helper()
	want, wantErr := json.Marshal(&e)
	got, err := appendEntryJSON([]byte("prefix"), &e)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("error %v, json.Marshal's %v", err, wantErr)
	}
	if err != nil {
		return
	}
	if !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Errorf("appendEntryJSON:\n%s\njson.Marshal:\n%s", got[len("prefix"):], want)
	}
}

// FuzzAppendEntryJSON compares appendEntryJSON with json.Marshal on entries whose strings and
// numbers the fuzzer picks.
func FuzzAppendEntryJSON(f *testing.F) {
	storetest.AddFuzzEntrySeeds(f)
	f.Fuzz(func(t *testing.T, s1, s2, s3, s4 string, sec, nsec int64, zone, code int, used bool) {
		checkEntryJSON(t, storetest.FuzzEntry(s1, s2, s3, s4, sec, nsec, zone, code, used))
	})
}

// BenchmarkEntryJSON compares appendEntryJSON with json.Marshal on bench/run.sh's valid send.
func BenchmarkEntryJSON(b *testing.B) {
	e := entryJSONCases()["every field"]
	e.Params = []store.Param{{Name: "access_token", Value: "benc…#7137e16f", Source: "query", Used: true},
		{Name: "user_type", Value: "1", Source: "body", Used: true}, {Name: "open_id", Value: "bench-user", Source: "body", Used: true},
		{Name: "msg_type", Value: "text", Source: "body", Used: true}, {Name: "content", Value: "hello from the benchmark", Source: "body", Used: true}}
	e.Warnings = e.Warnings[:1]
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := appendEntryJSON(make([]byte, 0, 1024), &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(&e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
