package mockserver

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
	"unicode/utf8"
)

// params are a request's parameters merged from the query string and the body the way the real
// service evidently does: a body value wins over a query value of the same name, and the first of
// repeated values wins. Every value is kept, with its source, for the journal.
type params struct {
	all []Param
	// notes explain what the parser skipped or could not read (e.g. a JSON body).
	notes []string
	// first holds the first parameters, so a usual request needs one allocation, not two.
	first [8]Param
}

// get returns the value in use for name and whether it was sent at all.
func (p *params) get(name string) (string, bool) {
	for i := range p.all {
		if p.all[i].Used && p.all[i].Name == name {
			return p.all[i].Value, true
		}
	}
	return "", false
}

func (p *params) add(name, value, source string) {
	p.all = append(p.all, Param{Name: name, Value: value, Source: source})
}

// resolve marks, for each name, the value in use: the first body value, else the first query value.
// Requests carry a handful of parameters, so a quadratic scan beats a map here.
func (p *params) resolve() {
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
func parseParams(rawQuery, contentType string, body []byte, lenientJSON bool) *params {
	p := &params{}
	p.all = p.first[:0]
	if rawQuery != "" {
		if err := addURLEncoded(p, rawQuery, "query"); err != nil {
			p.notes = append(p.notes, "query: "+err.Error())
		}
	}
	kind, ps, mt := classify(contentType)
	switch kind {
	case bodyForm:
		if err := addURLEncoded(p, string(body), "body"); err != nil {
			p.notes = append(p.notes, "body: "+err.Error())
		}
	case bodyMultipart:
		if err := addMultipart(p, body, ps["boundary"]); err != nil {
			p.notes = append(p.notes, "body: multipart: "+err.Error())
		}
	case bodyJSON:
		trimmed := bytes.TrimSpace(body)
		switch {
		case len(trimmed) == 0:
		case lenientJSON && trimmed[0] != '{' && trimmed[0] != '[':
			if err := addURLEncoded(p, string(body), "body"); err != nil {
				p.notes = append(p.notes, "body: "+err.Error())
			}
			p.notes = append(p.notes, "body: read a urlencoded body sent as "+mt+" (lenient_json)")
		default:
			p.notes = append(p.notes, "body: ignored: "+mt+" is not a source of parameters (send application/x-www-form-urlencoded)")
		}
	case bodyNone:
		if len(bytes.TrimSpace(body)) > 0 {
			p.notes = append(p.notes, "body: ignored: no Content-Type (send application/x-www-form-urlencoded)")
		}
	case bodyOther:
		if len(bytes.TrimSpace(body)) > 0 {
			p.notes = append(p.notes, "body: ignored: Content-Type "+mt+" is not a form (send application/x-www-form-urlencoded)")
		}
	}
	p.resolve()
	return p
}

// addURLEncoded adds every pair of a urlencoded string; a bad pair is skipped and reported, the
// rest are kept (as url.ParseQuery does).
func addURLEncoded(p *params, s, source string) error {
	var firstErr error
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k1, err := url.QueryUnescape(k)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		v1, err := url.QueryUnescape(v)
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

func addMultipart(p *params, body []byte, boundary string) error {
	if boundary == "" {
		return errors.New("no boundary in Content-Type")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
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
		v, err := io.ReadAll(io.LimitReader(part, 1<<20))
		if err != nil {
			return err
		}
		p.add(name, string(v), "body")
	}
}

// validUTF8 reports the first parameter whose value is not valid UTF-8.
func (p *params) invalidUTF8() string {
	for _, prm := range p.all {
		if prm.Used && !utf8.ValidString(prm.Value) {
			return prm.Name
		}
	}
	return ""
}
