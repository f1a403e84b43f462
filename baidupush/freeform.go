package baidupush

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// A free-form push is any set of fields pushed to the message URL: an event, a MsgType Baidu does
// not document, or a documented message with a field overridden (a CreateTime in the past, a
// MsgId of 2^53). Baidu documents only text and image for a mini program's message URL; what
// other fields a bot may get is inferred [inf], so Fields carries them as they are given.

// Field is one field of a free-form push: a string (CDATA in XML) or an integer (bare in XML, a
// number in JSON).
type Field struct {
	// Name is the field's name, e.g. "Event".
	Name string
	// Value is the field's value when it is a string.
	Value string
	// Number is the field's value when IsNumber is set.
	Number int64
	// IsNumber says the field is an integer.
	IsNumber bool
}

// Fields is a free-form push, in the order its fields are rendered.
type Fields []Field

// The fields of Baidu's messages, in the order of its samples; SortFields puts them first.
var knownOrder = []string{"ToUserName", "FromUserName", "CreateTime", "MsgType", "Event", "Content", "PicUrl", "MsgId"}

// SortFields orders f as Baidu's samples do: ToUserName, FromUserName, CreateTime, MsgType, Event,
// Content, PicUrl, MsgId, then every other field by name.
func SortFields(f Fields) {
	rank := func(n string) int {
		if i := slices.Index(knownOrder, n); i >= 0 {
			return i
		}
		return len(knownOrder)
	}
	slices.SortStableFunc(f, func(a, b Field) int {
		if d := rank(a.Name) - rank(b.Name); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// Get returns the value of the field named name as text.
func (f Fields) Get(name string) (string, bool) {
	for _, x := range f {
		if x.Name == name {
			if x.IsNumber {
				return strconv.FormatInt(x.Number, 10), true
			}
			return x.Value, true
		}
	}
	return "", false
}

// Set replaces the field named name (keeping its place), or appends it.
func (f Fields) Set(x Field) Fields {
	for i := range f {
		if f[i].Name == x.Name {
			f[i] = x
			return f
		}
	}
	return append(f, x)
}

// Validate reports what makes f unpushable: no fields, an empty or repeated name, a name that is
// not an XML element name, or the fields every push carries (ToUserName, FromUserName, MsgType)
// missing.
func (f Fields) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, x := range f {
		switch {
		case !xmlName(x.Name):
			errs = append(errs, fmt.Errorf("field %d: name %q; want letters, digits and _ (starting with a letter)", i+1, x.Name))
		case seen[x.Name]:
			errs = append(errs, fmt.Errorf("field %s: given twice", x.Name))
		}
		seen[x.Name] = true
	}
	for _, n := range []string{"ToUserName", "FromUserName", "MsgType"} {
		if v, ok := f.Get(n); !ok || v == "" {
			errs = append(errs, fmt.Errorf("field %s: missing; every push carries it", n))
		}
	}
	return errors.Join(errs...)
}

func xmlName(n string) bool {
	if n == "" || !('a' <= n[0] && n[0] <= 'z' || 'A' <= n[0] && n[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(n); i++ {
		c := n[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// MarshalFormat renders f in JSON (one object, the fields in order) or in Baidu's XML (strings in
// CDATA, numbers bare), as Message.MarshalFormat renders a message.
func (f Fields) MarshalFormat(format Format) ([]byte, error) {
	switch format {
	case FormatJSON:
		return f.json("")
	case FormatXML, "":
		var w xmlWriter
		f.xml(&w)
		return w.done(), nil
	}
	return nil, fmt.Errorf("format %q; want xml or json", format)
}

// json renders f as one JSON object; a non-empty encrypt is added as the last field, Encrypt.
func (f Fields) json(encrypt string) ([]byte, error) {
	b := []byte{'{'}
	add := func(name string, v any) error {
		if len(b) > 1 {
			b = append(b, ',')
		}
		k, err := marshalJSON(name)
		if err != nil {
			return err
		}
		val, err := marshalJSON(v)
		if err != nil {
			return err
		}
		b = append(append(append(b, k...), ':'), val...)
		return nil
	}
	for _, x := range f {
		var v any = x.Value
		if x.IsNumber {
			v = x.Number
		}
		if err := add(x.Name, v); err != nil {
			return nil, err
		}
	}
	if encrypt != "" {
		if err := add("Encrypt", encrypt); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func (f Fields) xml(w *xmlWriter) {
	for _, x := range f {
		if x.IsNumber {
			w.number(x.Name, x.Number)
		} else {
			w.cdata(x.Name, x.Value)
		}
	}
}

// EncodeFields builds the push of the free-form fields f under c with the randomness p, as
// Encode does for a message: the same query, envelopes and encryption; msgID is recorded in
// Request.MsgID (it is the body's MsgId only when f has one).
func EncodeFields(c Config, f Fields, msgID int64, p Params) (*Request, error) {
	c = c.WithDefaults(c.ClientID)
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	plain, err := f.MarshalFormat(c.Format)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	to, _ := f.Get("ToUserName")
	return encodePlain(c, plain, msgID, to, p, func(enc string) ([]byte, error) {
		if c.Format == FormatJSON {
			return f.json(enc)
		}
		var w xmlWriter
		f.xml(&w)
		w.cdata("Encrypt", enc)
		return w.done(), nil
	})
}

// DeliverFields pushes the free-form fields f to c.URL as Deliver pushes a message: the same
// attempts, retries, acknowledgement rule and faults (but OutOfOrder, which needs several
// messages). msgID names the push in the Result and in OnAttempt.
func DeliverFields(ctx context.Context, client *http.Client, c Config, f Fields, msgID int64, opts ...Option) Result {
	s := newSettings(opts)
	client = noRedirects(client)
	c = c.WithDefaults(c.ClientID)
	res := Result{MsgID: msgID, Sequence: 1, Faults: slices.Clone(s.faults), Attempts: []Attempt{}}
	if err := errors.Join(c.Validate(), f.Validate()); err != nil {
		res.Outcome, res.Reason = OutcomeInvalid, err.Error()
		return res
	}
	p, err := s.params()
	if err == nil {
		var req *Request
		if req, err = EncodeFields(c, f, msgID, p); err == nil {
			return s.send(ctx, client, c, req, res)
		}
	}
	res.Outcome, res.Reason = OutcomeInvalid, err.Error()
	return res
}

// NewParams draws the randomness of one push as Deliver does (timestamp from now, a random nonce
// and prefix), for a caller that encodes a push itself (a dry run).
func NewParams(opts ...Option) (Params, error) {
	return newSettings(opts).params()
}
