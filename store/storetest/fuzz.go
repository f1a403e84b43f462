package storetest

import (
	"testing"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/store"
)

// AddFuzzEntrySeeds adds the seed inputs of the fuzz targets that build their entries with
// FuzzEntry.
func AddFuzzEntrySeeds(f *testing.F) {
	f.Add("id", "content", "reason", "open_on_first_send", int64(1700000000), int64(5), 8*3600, 90001, true)
	f.Add("<&>", "你好\u2028", "\x00\xff", "", int64(-62135596800), int64(0), -1, -1, false)
	f.Add("", "x", "y", "z", int64(1), int64(999999999), -90, 0, true)
}

// FuzzEntry is a journal entry for a fuzz target of an entry encoding (the Redis store's JSON,
// the in-memory store's records): every string field is one of s1 to s4, the time is sec and nsec
// in a zone of zone seconds east of UTC (the app's time in UTC; with used, the time in Local and
// a warning; without, a push attempt), and the numbers come from code and nsec.
func FuzzEntry(s1, s2, s3, s4 string, sec, nsec int64, zone, code int, used bool) store.Entry {
	at := time.Unix(sec, nsec).In(time.FixedZone("", zone%(200*3600)))
	e := store.Entry{Seq: uint64(sec), ID: s1, Time: at, AppTime: at.UTC(), App: s4, Token: s2, Endpoint: s1, Method: s3,
		Path: s2, ContentType: s4, Params: []store.Param{{Name: s1, Value: s2, Source: s3, Used: used}}, OpenID: s3,
		MsgType: s4, Layer: smartappmock.Layer(s1), Code: code, OAuthError: s4, Status: -code, Reason: s3, Rule: s4, Fault: s2,
		FaultPhase: s4, LatencyMicros: nsec}
	if used {
		e.Warnings = []store.Warning{{Kind: s4, Message: s3}}
		e.Time = at.Local()
	} else {
		e.Push = &store.PushAttempt{MsgID: nsec, Attempt: code, Attempts: -code, Mode: s1, Answer: s2, Faults: []string{s3, s4},
			Delivery: code, Redelivery: code%2 == 0, Replica: s3, Verdict: s4, AnswerTruncated: code%3 == 0,
			Request: &store.PushRequest{URL: s1, ContentType: s2, Body: s3, Truncated: code%5 == 0}}
	}
	return e
}
