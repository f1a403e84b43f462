package memstore

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/storetest"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
)

// TestRecord_RoundTrip: every field of an entry comes back from its record as it went in: nil and
// empty lists apart, times with their instant and zone, strings longer than a one-byte length.
func TestRecord_RoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 30, 19, 4, 5, 123456789, time.UTC)
	full := store.Entry{
		Seq: 1 << 40, ID: "98404e98-257006", Time: at, AppTime: at.Add(48 * time.Hour), App: "20001", Token: "benc…#7137e16f",
		Endpoint: "send", Method: "POST", Path: smartappmock.SendPath, ContentType: "application/x-www-form-urlencoded",
		Params: []store.Param{
			{Name: "access_token", Value: "benc…#7137e16f", Source: "query", Used: true},
			{Name: "content", Value: strings.Repeat("你好", 300), Source: "body", Used: true},
			{Name: "open_id", Value: "", Source: "body"},
		},
		OpenID: "user-1", MsgType: "text", Layer: smartappmock.LayerBusiness, Code: 90001, OAuthError: "invalid_client", Status: 200,
		Reason: "window: reply 6 of 5", Rule: "rules[0]", Fault: "latency 1.2s + http_503 (faults[0]); cut", FaultPhase: "after",
		Warnings:      []store.Warning{{Kind: "open_on_first_send", Message: "window: opened by this send"}},
		LatencyMicros: 1 << 33,
		Push:          &store.PushAttempt{MsgID: 1_000_000_000_000_001, Attempt: 2, Attempts: 3, Mode: "secure", Duplicate: true, Answer: "success", Faults: []string{"duplicate", "delay"}},
	}
	tests := []struct {
		name string
		e    store.Entry
	}{
		{"Full", full},
		{"Zero", store.Entry{}},
		{"EmptyLists_NotNil", store.Entry{Params: []store.Param{}, Warnings: []store.Warning{}}},
		{"NegativeNumbers", store.Entry{Code: -1, Status: -2, LatencyMicros: -3}},
		{"PushOfAUserMessage_MsgIDAlone", store.Entry{Endpoint: store.EndpointUserMessage, Push: &store.PushAttempt{MsgID: 7}}},
		{"PushWithoutFaults_NilNotEmpty", store.Entry{Push: &store.PushAttempt{Faults: []string{}}}},
		{"PushNegativeNumbers", store.Entry{Push: &store.PushAttempt{MsgID: -1, Attempt: -2, Attempts: -3}}},
		{"LocalTime", store.Entry{Time: time.Unix(1_800_000_000, 5).Local(), AppTime: time.Unix(1, 0)}},
		{"FixedZone", store.Entry{Time: at.In(time.FixedZone("CST", 8*3600)), AppTime: at.In(time.FixedZone("", -(3*3600 + 30*60)))}},
		{"ZoneOfSecondsAndMinusOneMinute", store.Entry{Time: at.In(time.FixedZone("", -90)), AppTime: at.In(time.FixedZone("", 3600+7))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkRecordRoundTrip(t, tt.e)
		})
	}
}

// checkRecordRoundTrip encodes e and decodes it again: the same entry (times with the same instant
// and zone offset, UTC staying UTC), from a buffer of exactly the size newRecord computed.
func checkRecordRoundTrip(t *testing.T, e store.Entry) {
	t.Helper()
	rec := newRecord(&e)
	if cap(rec) != len(rec) { // short: append grew the buffer, a second allocation
		t.Errorf("record of %d bytes in a buffer of %d: the size estimate is off", len(rec), cap(rec))
	}
	got := rec.entry()
	if diff := cmp.Diff(e, got); diff != "" {
		t.Errorf("entry from record (-want +got):\n%s", diff)
	}
	for i, pair := range [][2]time.Time{{e.Time, got.Time}, {e.AppTime, got.AppTime}} {
		_, wantOff := pair[0].Zone()
		_, gotOff := pair[1].Zone()
		if wantOff != gotOff || (pair[0].Location() == time.UTC) != (pair[1].Location() == time.UTC) {
			t.Errorf("time %d: zone %v (%d s), want %v (%d s)", i, pair[1].Location(), gotOff, pair[0].Location(), wantOff)
		}
	}
}

// FuzzRecord: any entry survives its record (strings of any bytes, any instant and zone offset).
func FuzzRecord(f *testing.F) {
	storetest.AddFuzzEntrySeeds(f)
	f.Fuzz(func(t *testing.T, s1, s2, s3, s4 string, sec, nsec int64, zone, code int, used bool) {
		checkRecordRoundTrip(t, storetest.FuzzEntry(s1, s2, s3, s4, sec, nsec, zone, code, used))
	})
}

// TestRecord_SetSeq: the sequence number is written in place, and read without decoding.
func TestRecord_SetSeq(t *testing.T) {
	t.Parallel()
	rec := newRecord(&store.Entry{Seq: 7, ID: "a"})
	if rec.seq() != 7 {
		t.Fatalf("seq %d, want 7", rec.seq())
	}
	rec.setSeq(1<<63 + 5)
	if e := rec.entry(); e.Seq != 1<<63+5 || e.ID != "a" {
		t.Fatalf("entry %+v, want seq %d and id a", e, uint64(1<<63+5))
	}
}

// TestRecord_EveryFieldKept fills every field of an entry, and of its parameter, warning and push
// attempt, with a value of its own (found by reflection, so a field added to Entry later is filled too)
// and requires them all back: a field the record does not encode fails here.
func TestRecord_EveryFieldKept(t *testing.T) {
	t.Parallel()
	var e store.Entry
	fillFields(t, reflect.ValueOf(&e).Elem(), 1)
	checkRecordRoundTrip(t, e)
}

// fillFields sets every field of the struct v to a non-zero value derived from n and its index.
func fillFields(t *testing.T, v reflect.Value, n int) {
	t.Helper()
	for i := range v.NumField() {
		f, k := v.Field(i), n*100+i+1
		switch {
		case f.Type() == reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(time.Unix(int64(k)*1000, int64(k)).UTC()))
		case f.Kind() == reflect.String:
			f.SetString(v.Type().Field(i).Name + "-" + strconv.Itoa(k))
		case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
			f.SetInt(int64(k))
		case f.Kind() == reflect.Uint64:
			f.SetUint(uint64(k))
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			s := reflect.MakeSlice(f.Type(), 2, 2)
			for j := range 2 {
				fillFields(t, s.Index(j), k*10+j)
			}
			f.Set(s)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			s := reflect.MakeSlice(f.Type(), 2, 2)
			for j := range 2 {
				s.Index(j).SetString(v.Type().Field(i).Name + "-" + strconv.Itoa(k*10+j))
			}
			f.Set(s)
		case f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.Struct:
			p := reflect.New(f.Type().Elem())
			fillFields(t, p.Elem(), k)
			f.Set(p)
		default:
			t.Fatalf("field %s of %s: kind %s has no test value; teach fillFields and the record (memory_record.go)", v.Type().Field(i).Name, v.Type(), f.Kind())
		}
	}
}
