package store

import (
	"encoding/binary"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
)

// stored is a journal entry as the in-memory store keeps it (in an app's ring and in the feed):
// every string of the entry in one text, so that the garbage collector, which scans the journal
// at every cycle, finds three pointers per entry instead of some forty (the journal was most of
// the collector's work under load, and the collector a tenth of a loaded fake's CPU). The entry
// comes back whole (entry); its times lose only their monotonic clock reading.
type stored struct {
	seq           uint64
	text          string // see storeEntry
	sec, appSec   int64
	nsec, appNsec int32
	loc, appLoc   *time.Location
	code, status  int
	latency       int64
}

// storeEntry encodes e. The text holds, each string as its length (uvarint) and its bytes: ID,
// App, Token, Endpoint, Method, Path, ContentType, OpenID, MsgType, Layer, OAuthError, Reason,
// Rule, Fault, FaultPhase; then the parameters (a count plus one, 0 for nil) as Name, Value, Source
// and a byte for Used; then the warnings (a count plus one, 0 for nil) as Kind and Message.
func storeEntry(e *Entry) stored {
	strs := [...]string{e.ID, e.App, e.Token, e.Endpoint, e.Method, e.Path, e.ContentType, e.OpenID, e.MsgType,
		string(e.Layer), e.OAuthError, e.Reason, e.Rule, e.Fault, e.FaultPhase}
	size := 2 * binary.MaxVarintLen64
	for _, s := range strs {
		size += binary.MaxVarintLen64 + len(s)
	}
	for _, p := range e.Params {
		size += 3*binary.MaxVarintLen64 + len(p.Name) + len(p.Value) + len(p.Source) + 1
	}
	for _, w := range e.Warnings {
		size += 2*binary.MaxVarintLen64 + len(w.Kind) + len(w.Message)
	}
	var b strings.Builder
	b.Grow(size)
	var tmp [binary.MaxVarintLen64]byte
	num := func(n int) { b.Write(binary.AppendUvarint(tmp[:0], uint64(n))) }
	str := func(s string) { num(len(s)); b.WriteString(s) }
	for _, s := range strs {
		str(s)
	}
	if e.Params == nil {
		num(0)
	} else {
		num(len(e.Params) + 1)
		for _, p := range e.Params {
			str(p.Name)
			str(p.Value)
			str(p.Source)
			if p.Used {
				b.WriteByte(1)
			} else {
				b.WriteByte(0)
			}
		}
	}
	if e.Warnings == nil {
		num(0)
	} else {
		num(len(e.Warnings) + 1)
		for _, w := range e.Warnings {
			str(w.Kind)
			str(w.Message)
		}
	}
	return stored{seq: e.Seq, text: b.String(),
		sec: e.Time.Unix(), nsec: int32(e.Time.Nanosecond()), loc: e.Time.Location(),
		appSec: e.AppTime.Unix(), appNsec: int32(e.AppTime.Nanosecond()), appLoc: e.AppTime.Location(),
		code: e.Code, status: e.Status, latency: e.LatencyMicros}
}

// textReader reads storeEntry's text; its strings are pieces of the text, not copies.
type textReader struct {
	s   string
	off int
}

func (r *textReader) num() int {
	var n uint64
	for shift := 0; ; shift += 7 {
		c := r.s[r.off]
		r.off++
		n |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return int(n)
		}
	}
}

func (r *textReader) str() string {
	n := r.num()
	s := r.s[r.off : r.off+n]
	r.off += n
	return s
}

// entry decodes the entry.
func (st *stored) entry() Entry {
	r := textReader{s: st.text}
	e := Entry{Seq: st.seq, Code: st.code, Status: st.status, LatencyMicros: st.latency,
		Time: time.Unix(st.sec, int64(st.nsec)).In(st.loc), AppTime: time.Unix(st.appSec, int64(st.appNsec)).In(st.appLoc)}
	e.ID, e.App, e.Token, e.Endpoint, e.Method = r.str(), r.str(), r.str(), r.str(), r.str()
	e.Path, e.ContentType, e.OpenID, e.MsgType = r.str(), r.str(), r.str(), r.str()
	e.Layer = smartappmock.Layer(r.str())
	e.OAuthError, e.Reason, e.Rule, e.Fault, e.FaultPhase = r.str(), r.str(), r.str(), r.str(), r.str()
	if n := r.num(); n > 0 {
		e.Params = make([]Param, n-1)
		for i := range e.Params {
			p := &e.Params[i]
			p.Name, p.Value, p.Source = r.str(), r.str(), r.str()
			p.Used = r.s[r.off] == 1
			r.off++
		}
	}
	if n := r.num(); n > 0 {
		e.Warnings = make([]Warning, n-1)
		for i := range e.Warnings {
			e.Warnings[i].Kind, e.Warnings[i].Message = r.str(), r.str()
		}
	}
	return e
}
