// Package params reads the parameters of a request the way Baidu's service evidently does: the
// query string and the body (urlencoded, multipart; a urlencoded body labelled JSON only with
// lenient_json) merged, body first, each value with its source; at most MaxParams of them, in
// linear time. It also gives what the journal keeps of them (bounded copies, secrets redacted).
// Each real-world SDK quirk is named where it is handled.
package params

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unsafe"

	"github.com/smartappmock/smartappmock/store"
)

// Param is one request parameter and where it came from, as the journal keeps it (store.Param).
type Param = store.Param

// Parse merges the raw query and the body of a request. lenientJSON reads a urlencoded body
// labelled JSON.
func Parse(rawQuery, contentType string, body []byte, lenientJSON bool) *Params {
	return parseParams(rawQuery, contentType, body, lenientJSON)
}

// ParseBody is Parse for a body the caller hands over: the values point into body instead of a
// copy of it, so body must never be written again (a request's body, read once, is not). It saves
// a send a copy of its body.
func ParseBody(rawQuery, contentType string, body []byte, lenientJSON bool) *Params {
	return parseParamsText(rawQuery, contentType, unsafe.String(unsafe.SliceData(body), len(body)), lenientJSON)
}

// Get returns the value in use for name and whether it was sent at all.
func (p *Params) Get(name string) (string, bool) { return p.get(name) }

// Notes explain what the parser skipped or could not read (e.g. a JSON body).
func (p *Params) Notes() []string { return p.notes }

// TooManyReason is the reason to refuse a request that carried more than MaxParams parameters,
// "" when it did not.
func (p *Params) TooManyReason() string { return p.tooManyReason() }

// LenientJSON reports whether the body was a urlencoded form labelled JSON, read only because of
// lenient_json.
func (p *Params) LenientJSON() bool { return p.lenientJSON }

// InvalidUTF8 names the first parameter in use whose value is not valid UTF-8 (clipped), "" when
// every one is.
func (p *Params) InvalidUTF8() string { return p.invalidUTF8() }

// Journal returns the parameters as a journal entry keeps them (see journal).
func (p *Params) Journal() []Param { return p.journal() }

// ClipCopy returns a copy of s that shares no memory with s, cut to MaxJournalValue bytes (see
// clipCopy).
func ClipCopy(s string) string { return clipCopy(s) }

// RedactToken keeps a token's type prefix and a short hash: enough to tell tokens apart in the
// journal, useless to an attacker.
func RedactToken(t string) string {
	if t == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(t))
	prefix := t
	if i := strings.IndexByte(t, '.'); i > 0 && i <= 4 {
		prefix = t[:i+1]
	} else if len(prefix) > 4 {
		prefix = prefix[:4]
	}
	// prefix "…#" hash, built in one allocation: at most 5 + 4 + 8 bytes.
	const mark = "…#"
	var b [5 + len(mark) + 8]byte
	n := copy(b[:], prefix)
	n += copy(b[n:], mark)
	n += hex.Encode(b[n:], sum[:4])
	return string(b[:n])
}

// SetRedactedToken tells p the redacted form of the access token in use, known already (it must
// be RedactToken(token)): Journal and RedactedToken then take it instead of hashing again.
func (p *Params) SetRedactedToken(token, redacted string) { p.redacted = [2]string{token, redacted} }

// RedactedToken returns RedactToken(t), computed once per request: the journal's access_token
// in use (Journal redacts it) is t most of the time.
func (p *Params) RedactedToken(t string) string {
	if p != nil && p.redacted[0] == t && t != "" {
		return p.redacted[1]
	}
	return RedactToken(t)
}
