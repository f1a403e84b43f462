package params

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/smartappmock/smartappmock"
)

// MaxParams is the most parameters one request may carry, query and body together (1000). The
// parser stops reading at the cap and counts the rest without decoding them; the request is then
// answered errno 3001 with the reason tooManyReason gives. Real clients send about ten.
const MaxParams = 1000

// MaxJournalParams is the most parameters a journal entry keeps (64); the rest are counted in a
// final note (see journal).
const MaxJournalParams = 64

// smallParams is the count up to which resolve and get scan the list instead of building a map:
// the usual request (an SDK sends five to eight parameters) then allocates no map.
const smallParams = 16

// Params are a request's parameters merged from the query string and the body the way the real
// service evidently does: a body value wins over a query value of the same name, and the first of
// repeated values wins. Every value read (at most MaxParams) is kept, with its source.
//
// The values may share memory with the request's body: use them while answering the request, and
// keep only what journal and clipCopy return.
type Params struct {
	all []Param
	// notes explain what the parser skipped or could not read (e.g. a JSON body).
	notes []string
	// tooMany is how many parameters were sent beyond MaxParams (counted, not decoded); 0 when
	// every parameter was read. See tooManyReason.
	tooMany int
	// index maps each name to the index of its value in use in all; built by resolve only when
	// there are more than smallParams parameters, so the merge stays linear.
	index map[string]int
	// first holds the first parameters, so a usual request needs one allocation, not two.
	first [8]Param
	// redacted is the access_token in use and its RedactToken, once Journal has computed it.
	redacted [2]string
	// lenientJSON is true when the body was a urlencoded form labelled JSON, read only because of
	// policy.lenient_json (the API core then warns: LenientJSON).
	lenientJSON bool
}

// paramsPool recycles the Params of requests whose handler calls Release: a Params is the largest
// allocation of a send (about 600 bytes) and lives only while the request is answered.
var paramsPool = sync.Pool{New: func() any { return new(Params) }}

// Release hands p back for a later request: the caller must not use p afterwards. What p
// returned stays valid (values are strings of the request, Journal's are copies). Not calling
// it is fine: p is then collected as any value.
func (p *Params) Release() {
	if p == nil {
		return
	}
	*p = Params{} // no string of this request stays reachable from the pool
	paramsPool.Put(p)
}

// get returns the value in use for name and whether it was sent at all.
func (p *Params) get(name string) (string, bool) {
	if p.index != nil {
		if i, ok := p.index[name]; ok {
			return p.all[i].Value, true
		}
		return "", false
	}
	for i := range p.all {
		if p.all[i].Used && p.all[i].Name == name {
			return p.all[i].Value, true
		}
	}
	return "", false
}

// full reports whether MaxParams parameters have been read.
func (p *Params) full() bool {
	return len(p.all) >= MaxParams
}

func (p *Params) add(name, value, source string) {
	p.all = append(p.all, Param{Name: name, Value: value, Source: source})
}

// tooManyReason returns the reason of the errno 3001 that a request with more than MaxParams
// parameters gets ("too many parameters: more than 1000 (N more not read)"), or "" when every
// parameter was read. The parameters before the cap are read, so the caller can still check the
// token first when the layering asks for it.
func (p *Params) tooManyReason() string {
	if p.tooMany == 0 {
		return ""
	}
	return "too many parameters: more than " + strconv.Itoa(MaxParams) + " (" + strconv.Itoa(p.tooMany) + " more not read)"
}

// resolve marks, for each name, the value in use: the first body value, else the first query value.
// A handful of parameters are compared pairwise (no map to allocate); more go through a map, so a
// body of many distinct names costs linear time, not quadratic.
func (p *Params) resolve() {
	if len(p.all) <= smallParams {
		for i := range p.all {
			prm := &p.all[i]
			chosen := -1
			for j := range i {
				if p.all[j].Used && p.all[j].Name == prm.Name {
					chosen = j
					break
				}
			}
			switch {
			case chosen < 0:
				prm.Used = true
			case p.all[chosen].Source == "query" && prm.Source == "body":
				p.all[chosen].Used = false
				prm.Used = true
			}
		}
		return
	}
	p.index = make(map[string]int, len(p.all))
	for i := range p.all {
		prm := &p.all[i]
		chosen, seen := p.index[prm.Name]
		switch {
		case !seen:
			prm.Used = true
			p.index[prm.Name] = i
		case p.all[chosen].Source == "query" && prm.Source == "body":
			p.all[chosen].Used = false
			prm.Used = true
			p.index[prm.Name] = i
		}
	}
}

// journal returns the parameters as a journal entry keeps them, sharing no memory with the
// request: at most MaxJournalParams of them (the values in use first, then the others, each group
// in the order sent, and the whole in the order sent), every name and value a copy clipped by
// clipCopy, access_token, refresh_token and code replaced by their redacted form (redactToken),
// client_secret and ticket by "<redacted>". When parameters were left out (beyond MaxJournalParams, or never read beyond
// MaxParams), a last element says how many:
//
//	Param{Name: "…", Value: "N more parameters not kept", Source: "note"}
//
// Readers that rebuild requests from the journal skip Source "note".
func (p *Params) journal() []Param {
	n := len(p.all)
	var small [4 * len(p.first)]string // the usual request's pieces, on the stack
	a := arena{pieces: small[:]}
	if n > len(p.first) {
		a.pieces = make([]string, 4*min(n, MaxJournalParams))
	}
	if n <= MaxJournalParams && p.tooMany == 0 {
		out := make([]Param, n)
		for i := range p.all {
			out[i] = a.param(p.all[i], p.journalValue(p.all[i]))
		}
		return a.finish(out)
	}
	keep := make([]bool, n)
	kept := 0
	for _, used := range []bool{true, false} {
		for i := range p.all {
			if kept == MaxJournalParams {
				break
			}
			if p.all[i].Used == used {
				keep[i] = true
				kept++
			}
		}
	}
	out := make([]Param, 0, kept+1)
	for i := range p.all {
		if keep[i] {
			out = append(out, a.param(p.all[i], p.journalValue(p.all[i])))
		}
	}
	out = a.finish(out)
	return append(out, Param{Name: "…", Value: strconv.Itoa(n-kept+p.tooMany) + " more parameters not kept", Source: "note"})
}

// arena copies the names and values of a journal entry's parameters into one allocation: every
// name and value clipped (as clipCopy does), secrets redacted. param records the pieces; finish
// copies them and points each parameter at its part of the copy. A per-request allocation count
// that the benchmarks of bench_test.go watch.
type arena struct {
	// pieces hold, for each parameter: name head, name tail, value head, value tail; n are set.
	// (Set by index, not appended: the usual request's pieces then stay on the caller's stack.)
	pieces []string
	n      int
	size   int
}

func (a *arena) add(s string, limit int) {
	// Whatever the parameters, an entry keeps at most MaxJournalParamBytes of their text: once
	// the budget is spent, every further name and value keeps its first 16 bytes.
	limit = min(limit, max(MaxJournalParamBytes-a.size, 16))
	head, tail := clipPiecesTo(s, limit)
	a.pieces[a.n], a.pieces[a.n+1] = head, tail
	a.n += 2
	a.size += len(head) + len(tail)
}

// param records a parameter with the value the journal keeps (journalValue) and returns it with
// its source and use (names and values set by finish).
func (a *arena) param(prm Param, value string) Param {
	a.add(prm.Name, MaxJournalName)
	a.add(value, MaxJournalValue)
	return Param{Source: prm.Source, Used: prm.Used}
}

// journalValue is the value of prm as the journal keeps it, before clipping: access_token,
// refresh_token and code redacted (the access_token in use remembered for RedactedToken),
// client_secret and ticket "<redacted>".
func (p *Params) journalValue(prm Param) string {
	switch prm.Name {
	case smartappmock.ParamAccessToken, "refresh_token", "code":
		if prm.Used && prm.Name == smartappmock.ParamAccessToken && prm.Value == p.redacted[0] && prm.Value != "" {
			return p.redacted[1] // told by SetRedactedToken
		}
		red := RedactToken(prm.Value)
		if prm.Used && prm.Name == smartappmock.ParamAccessToken {
			p.redacted = [2]string{prm.Value, red}
		}
		return red
	case "client_secret", "ticket", "sk": // sk: the v1 login's app secret
		return "<redacted>"
	}
	return prm.Value
}

// finish copies every recorded piece into one string and sets the names and values of out (the
// parameters param returned, in order).
func (a *arena) finish(out []Param) []Param {
	var b strings.Builder
	b.Grow(a.size)
	for _, s := range a.pieces[:a.n] {
		b.WriteString(s)
	}
	all := b.String()
	off := 0
	next := func(i int) string {
		n := len(a.pieces[i]) + len(a.pieces[i+1])
		s := all[off : off+n]
		off += n
		return s
	}
	for i := range out {
		out[i].Name = next(4 * i)
		out[i].Value = next(4*i + 2)
	}
	return out
}

// MaxJournalName is the longest parameter name a journal entry keeps (256 bytes).
const MaxJournalName = 256

// MaxJournalParamBytes bounds the text of all of an entry's parameters together (16 KiB, marks
// included give or take): with MaxJournalParams it makes an entry's worst case a few dozen KiB,
// not 64 × 4 KiB.
const MaxJournalParamBytes = 16 << 10

// clipPieces returns s, or its first MaxJournalValue bytes (cut at a UTF-8 boundary) and the mark
// of its original length: clipCopy(s) is head + tail, without the copy.
func clipPieces(s string) (head, tail string) { return clipPiecesTo(s, MaxJournalValue) }

// clipPiecesTo is clipPieces with a limit of its own.
func clipPiecesTo(s string, limit int) (head, tail string) {
	if len(s) <= limit {
		return s, ""
	}
	cut := limit
	// Step back to the start of the rune cut in two; invalid UTF-8 (no start within a rune's
	// length) is cut where it is.
	for i := 0; i < utf8.UTFMax-1 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	if !utf8.RuneStart(s[cut]) {
		cut = limit
	}
	return s[:cut], "…(" + strconv.Itoa(len(s)) + " bytes, cut)"
}

// clipCopy returns a copy of s that shares no memory with s, cut to MaxJournalValue bytes at a
// UTF-8 boundary and marked with the original length ("…(N bytes, cut)"). Every string taken from
// a request that outlives the request (the journal's open_id and msg_type, a reason that quotes a
// value) goes through it: a substring, however short, would keep the whole body in memory.
func clipCopy(s string) string {
	head, tail := clipPieces(s)
	if tail == "" {
		return strings.Clone(head)
	}
	return head + tail
}

// bodyKind says how a body is read, from its Content-Type.
type bodyKind int

const (
	bodyNone bodyKind = iota
	bodyForm
	bodyMultipart
	bodyJSON
	bodyOther
)

// classify parses a Content-Type leniently: a trailing ";" (PHP SDK) and a charset (Java SDK) are
// fine.
func classify(contentType string) (bodyKind, map[string]string, string) {
	if strings.TrimSpace(contentType) == "" {
		return bodyNone, nil, ""
	}
	if contentType == "application/x-www-form-urlencoded" {
		// The common case, without parsing (and allocating) the media type's parameters.
		return bodyForm, nil, contentType
	}
	mt, ps, err := mime.ParseMediaType(contentType)
	if err != nil {
		// Keep what precedes the first ";" as the media type.
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		return bodyForm, ps, mt
	case "multipart/form-data":
		return bodyMultipart, ps, mt
	case "application/json", "text/json":
		return bodyJSON, ps, mt
	}
	return bodyOther, ps, mt
}

// parseParams merges the raw query and body. lenientJSON reads a urlencoded body labelled JSON.
func parseParams(rawQuery, contentType string, body []byte, lenientJSON bool) *Params {
	return parseParamsText(rawQuery, contentType, string(body), lenientJSON)
}

// parseParamsText is parseParams on the body's text.
func parseParamsText(rawQuery, contentType string, body string, lenientJSON bool) *Params {
	p := paramsPool.Get().(*Params)
	p.all = p.first[:0]
	if rawQuery != "" {
		if err := addURLEncoded(p, rawQuery, "query"); err != nil {
			p.notes = append(p.notes, "query: "+err.Error())
		}
	}
	kind, ps, mt := classify(contentType)
	switch kind {
	case bodyForm:
		if err := addURLEncoded(p, body, "body"); err != nil {
			p.notes = append(p.notes, "body: "+err.Error())
		}
	case bodyMultipart:
		if err := addMultipart(p, body, ps["boundary"]); err != nil {
			p.notes = append(p.notes, "body: multipart: "+err.Error())
		}
	case bodyJSON:
		trimmed := strings.TrimSpace(body)
		switch {
		case len(trimmed) == 0:
		case lenientJSON && trimmed[0] != '{' && trimmed[0] != '[':
			if err := addURLEncoded(p, body, "body"); err != nil {
				p.notes = append(p.notes, "body: "+err.Error())
			}
			p.notes = append(p.notes, "body: read a urlencoded body sent as "+mt+" (lenient_json)")
			p.lenientJSON = true
		default:
			p.notes = append(p.notes, "body: ignored: "+mt+" is not a source of parameters (send application/x-www-form-urlencoded)")
		}
	case bodyNone:
		if len(strings.TrimSpace(body)) > 0 {
			p.notes = append(p.notes, "body: ignored: no Content-Type (send application/x-www-form-urlencoded)")
		}
	case bodyOther:
		if len(strings.TrimSpace(body)) > 0 {
			p.notes = append(p.notes, "body: ignored: Content-Type "+mt+" is not a form (send application/x-www-form-urlencoded)")
		}
	}
	p.resolve()
	return p
}

// addURLEncoded adds every pair of a urlencoded string; a bad pair is skipped and reported, the
// rest are kept (as url.ParseQuery does). At MaxParams it stops and counts the remaining pairs.
func addURLEncoded(p *Params, s, source string) error {
	var firstErr error
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		if p.full() {
			p.tooMany += 1 + countPairs(s)
			break
		}
		k, v, _ := strings.Cut(pair, "=")
		k1, err := queryUnescape(k)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		v1, err := queryUnescape(v)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		p.add(k1, v1, source)
	}
	return firstErr
}

// queryUnescape is url.QueryUnescape, which a string without '%' and '+' skips: it is then its
// own unescaping (most names and values of a form are; url.QueryUnescape scans twice).
func queryUnescape(s string) (string, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '%' || c == '+' {
			return url.QueryUnescape(s)
		}
	}
	return s, nil
}

// countPairs counts the non-empty pairs of a urlencoded string without decoding them.
func countPairs(s string) int {
	n := 0
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair != "" {
			n++
		}
	}
	return n
}

// addMultipart adds every named part of a multipart/form-data body. At MaxParams it stops reading
// values and only counts the remaining named parts.
func addMultipart(p *Params, body string, boundary string) error {
	if boundary == "" {
		return errors.New("no boundary in Content-Type")
	}
	mr := multipart.NewReader(strings.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := part.FormName()
		if name == "" {
			continue
		}
		if p.full() {
			p.tooMany++
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, 1<<20))
		if err != nil {
			return err
		}
		p.add(name, string(v), "body")
	}
}

// invalidUTF8 returns the name of the first parameter in use whose value is not valid UTF-8, as
// clipCopy returns it (a copy, at most MaxJournalValue bytes and a mark), or "" when every value
// in use is valid.
func (p *Params) invalidUTF8() string {
	for _, prm := range p.all {
		if prm.Used && !utf8.ValidString(prm.Value) {
			return clipCopy(prm.Name)
		}
	}
	return ""
}
