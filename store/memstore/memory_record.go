package memstore

import (
	"encoding/binary"
	"time"
	"unsafe"

	"github.com/smartappmock/smartappmock/store"

	"github.com/smartappmock/smartappmock"
)

// record is a journal entry as the Store holds it: encoded into one allocation that holds
// no pointers and is never changed once published. An app's journal ring and the live feed share
// it, and the garbage collector marks it without scanning it: held as Entry values, the two rings'
// strings and parameters were most of what a collection scanned of a busy fake's live heap, and
// a second copy of every entry.
//
// The layout: the sequence number (8 bytes, little-endian, first so that cursors read it without
// decoding), the two times (zone, Unix seconds, nanoseconds: appendRecordTime), every string field
// (a uvarint length, then the bytes), Code, Status and LatencyMicros (varints), then the
// parameters and the warnings (a uvarint count plus one, 0 for nil, then each one's fields), and
// the push attempt (0 for nil, else 1 and its fields: appendRecordPush).
type record []byte

// newRecord encodes e, in one allocation of the size it needs. Its sequence number is e.Seq;
// setSeq may change it until the record is published.
func newRecord(e *store.Entry) record {
	strs := recordStrings(e)
	size := 8 + timeSize(e.Time) + timeSize(e.AppTime) + varintSize(int64(e.Code)) + varintSize(int64(e.Status)) + varintSize(e.LatencyMicros) +
		uvarintSize(uint64(len(e.Params))+1) + uvarintSize(uint64(len(e.Warnings))+1)
	for _, s := range strs {
		size += stringSize(s)
	}
	for i := range e.Params {
		p := &e.Params[i]
		size += stringSize(p.Name) + stringSize(p.Value) + stringSize(p.Source) + 1
	}
	for i := range e.Warnings {
		size += stringSize(e.Warnings[i].Kind) + stringSize(e.Warnings[i].Message)
	}
	size += pushSize(e.Push)
	b := make([]byte, 8, size)
	binary.LittleEndian.PutUint64(b, e.Seq)
	b = appendRecordTime(b, e.Time)
	b = appendRecordTime(b, e.AppTime)
	for _, s := range strs {
		b = appendRecordString(b, s)
	}
	b = binary.AppendVarint(b, int64(e.Code))
	b = binary.AppendVarint(b, int64(e.Status))
	b = binary.AppendVarint(b, e.LatencyMicros)
	b = appendRecordCount(b, len(e.Params), e.Params == nil)
	for i := range e.Params {
		p := &e.Params[i]
		b = appendRecordString(b, p.Name)
		b = appendRecordString(b, p.Value)
		b = appendRecordString(b, p.Source)
		used := byte(0)
		if p.Used {
			used = 1
		}
		b = append(b, used)
	}
	b = appendRecordCount(b, len(e.Warnings), e.Warnings == nil)
	for i := range e.Warnings {
		b = appendRecordString(b, e.Warnings[i].Kind)
		b = appendRecordString(b, e.Warnings[i].Message)
	}
	return record(appendRecordPush(b, e.Push))
}

// appendRecordPush writes a push attempt: 0 for nil, else 1, MsgID, Attempt and Attempts
// (varints), Mode, Duplicate (a byte), Answer, the faults (a count as appendRecordCount
// writes it, then each one), Delivery (a varint), the flags (pushFlags), Replica, Verdict, and
// the request (0 for nil, else 1, its URL, ContentType and Body).
func appendRecordPush(b []byte, p *store.PushAttempt) []byte {
	if p == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, p.MsgID)
	b = binary.AppendVarint(b, int64(p.Attempt))
	b = binary.AppendVarint(b, int64(p.Attempts))
	b = appendRecordString(b, p.Mode)
	dup := byte(0)
	if p.Duplicate {
		dup = 1
	}
	b = append(b, dup)
	b = appendRecordString(b, p.Answer)
	b = appendRecordCount(b, len(p.Faults), p.Faults == nil)
	for _, f := range p.Faults {
		b = appendRecordString(b, f)
	}
	b = binary.AppendVarint(b, int64(p.Delivery))
	b = append(b, pushFlags(p))
	b = appendRecordString(b, p.Replica)
	b = appendRecordString(b, p.Verdict)
	if p.Request == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	b = appendRecordString(b, p.Request.URL)
	b = appendRecordString(b, p.Request.ContentType)
	return appendRecordString(b, p.Request.Body)
}

// pushFlags packs Redelivery (bit 0), AnswerTruncated (bit 1) and Request.Truncated (bit 2) in
// one byte.
func pushFlags(p *store.PushAttempt) byte {
	var f byte
	if p.Redelivery {
		f |= 1
	}
	if p.AnswerTruncated {
		f |= 2
	}
	if p.Request != nil && p.Request.Truncated {
		f |= 4
	}
	return f
}

// pushSize is how many bytes appendRecordPush writes for p.
func pushSize(p *store.PushAttempt) int {
	if p == nil {
		return 1
	}
	n := 1 + varintSize(p.MsgID) + varintSize(int64(p.Attempt)) + varintSize(int64(p.Attempts)) +
		stringSize(p.Mode) + 1 + stringSize(p.Answer) + uvarintSize(uint64(len(p.Faults))+1)
	for _, f := range p.Faults {
		n += stringSize(f)
	}
	n += varintSize(int64(p.Delivery)) + 1 + stringSize(p.Replica) + stringSize(p.Verdict) + 1
	if r := p.Request; r != nil {
		n += stringSize(r.URL) + stringSize(r.ContentType) + stringSize(r.Body)
	}
	return n
}

// recordStrings are the string fields of e, in the record's order.
func recordStrings(e *store.Entry) [16]string {
	return [16]string{e.ID, e.App, e.Token, e.Endpoint, e.Method, e.Path, e.ContentType, e.OpenID,
		e.MsgType, string(e.Layer), e.OAuthError, e.Reason, e.Rule, e.Fault, e.FaultKind, e.FaultPhase}
}

// appendRecordTime writes t's zone (UTC, Local, or a fixed offset, its name not kept), its Unix
// seconds and its nanoseconds.
func appendRecordTime(b []byte, t time.Time) []byte {
	switch loc := t.Location(); loc {
	case time.UTC:
		b = append(b, recordUTC)
	case time.Local:
		b = append(b, recordLocal)
	default:
		_, off := t.Zone()
		b = binary.AppendVarint(append(b, recordFixedZone), int64(off))
	}
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// timeSize is how many bytes appendRecordTime writes for t.
func timeSize(t time.Time) int {
	n := 1 + varintSize(t.Unix()) + uvarintSize(uint64(t.Nanosecond()))
	if loc := t.Location(); loc != time.UTC && loc != time.Local {
		_, off := t.Zone()
		n += varintSize(int64(off))
	}
	return n
}

// The zones of a record's times.
const (
	recordUTC byte = iota
	recordLocal
	recordFixedZone
)

// uvarintSize is how many bytes binary.AppendUvarint writes for x.
func uvarintSize(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// varintSize is how many bytes binary.AppendVarint writes for x.
func varintSize(x int64) int { return uvarintSize(uint64(x<<1) ^ uint64(x>>63)) }

// stringSize is how many bytes appendRecordString writes for s.
func stringSize(s string) int { return uvarintSize(uint64(len(s))) + len(s) }

func appendRecordString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendRecordCount(b []byte, n int, isNil bool) []byte {
	if isNil {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(n)+1)
}

// seq returns the record's sequence number.
func (r record) seq() uint64 { return binary.LittleEndian.Uint64(r) }

// setSeq sets the record's sequence number: only before the record is published.
func (r record) setSeq(seq uint64) { binary.LittleEndian.PutUint64(r, seq) }

// entry decodes the record. The entry's strings share the record's bytes, which never change:
// only the parameters and warnings are allocated.
func (r record) entry() store.Entry {
	d := recordDecoder{b: r, i: 8}
	e := store.Entry{Seq: r.seq()}
	e.Time = d.time()
	e.AppTime = d.time()
	var strs [16]string
	for i := range strs {
		strs[i] = d.string()
	}
	e.ID, e.App, e.Token, e.Endpoint, e.Method, e.Path, e.ContentType, e.OpenID = strs[0], strs[1], strs[2], strs[3], strs[4], strs[5], strs[6], strs[7]
	e.MsgType, e.Layer, e.OAuthError, e.Reason, e.Rule = strs[8], smartappmock.Layer(strs[9]), strs[10], strs[11], strs[12]
	e.Fault, e.FaultKind, e.FaultPhase = strs[13], strs[14], strs[15]
	e.Code, e.Status, e.LatencyMicros = int(d.varint()), int(d.varint()), d.varint()
	if n, ok := d.count(); ok {
		e.Params = make([]store.Param, n)
		for i := range e.Params {
			e.Params[i] = store.Param{Name: d.string(), Value: d.string(), Source: d.string(), Used: d.byte() == 1}
		}
	}
	if n, ok := d.count(); ok {
		e.Warnings = make([]store.Warning, n)
		for i := range e.Warnings {
			e.Warnings[i] = store.Warning{Kind: d.string(), Message: d.string()}
		}
	}
	e.Push = d.push()
	return e
}

// push reads what appendRecordPush wrote.
func (d *recordDecoder) push() *store.PushAttempt {
	if d.byte() == 0 {
		return nil
	}
	p := &store.PushAttempt{MsgID: d.varint(), Attempt: int(d.varint()), Attempts: int(d.varint()), Mode: d.string()}
	p.Duplicate = d.byte() == 1
	p.Answer = d.string()
	if n, ok := d.count(); ok {
		p.Faults = make([]string, n)
		for i := range p.Faults {
			p.Faults[i] = d.string()
		}
	}
	p.Delivery = int(d.varint())
	flags := d.byte()
	p.Redelivery, p.AnswerTruncated = flags&1 != 0, flags&2 != 0
	p.Replica, p.Verdict = d.string(), d.string()
	if d.byte() == 1 {
		p.Request = &store.PushRequest{URL: d.string(), ContentType: d.string(), Body: d.string(), Truncated: flags&4 != 0}
	}
	return p
}

// recordDecoder reads a record that newRecord wrote: its input is never malformed.
type recordDecoder struct {
	b record
	i int
}

func (d *recordDecoder) byte() byte {
	c := d.b[d.i]
	d.i++
	return c
}

func (d *recordDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b[d.i:])
	d.i += n
	return v
}

func (d *recordDecoder) varint() int64 {
	v, n := binary.Varint(d.b[d.i:])
	d.i += n
	return v
}

func (d *recordDecoder) string() string {
	n := int(d.uvarint())
	if n == 0 {
		return ""
	}
	s := unsafe.String(&d.b[d.i], n)
	d.i += n
	return s
}

func (d *recordDecoder) time() time.Time {
	zone := d.byte()
	var off int64
	if zone == recordFixedZone {
		off = d.varint()
	}
	t := time.Unix(d.varint(), int64(d.uvarint()))
	switch zone {
	case recordUTC:
		return t.UTC()
	case recordFixedZone:
		return t.In(time.FixedZone("", int(off)))
	}
	return t
}

// count reads a count written by appendRecordCount: ok is false for a nil slice.
func (d *recordDecoder) count() (n int, ok bool) {
	v := d.uvarint()
	return int(v) - 1, v > 0
}
