package baidupush

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Names of the query parameters of a push and of the handshake.
const (
	// ParamSignature is sha1 of the sorted token, timestamp and nonce.
	ParamSignature = "signature"
	// ParamTimestamp is unix seconds.
	ParamTimestamp = "timestamp"
	// ParamNonce is a random number.
	ParamNonce = "nonce"
	// ParamMsgSignature is sha1 of the sorted token, timestamp, nonce and Encrypt.
	ParamMsgSignature = "msg_signature"
	// ParamEchoStr is the string the handshake wants back (camelCase, as Baidu documents it).
	ParamEchoStr = "echoStr"
)

// Content types of a push body [inf: Baidu does not document them].
const (
	// ContentTypeJSON is the Content-Type of a JSON push.
	ContentTypeJSON = "application/json"
	// ContentTypeXML is the Content-Type of an XML push.
	ContentTypeXML = "text/xml; charset=utf-8"
)

// Params is the randomness of one push: what Encode does not derive from the message. Fixing it
// makes an encoding reproducible (golden files, the Python cross-check).
type Params struct {
	// Timestamp is unix seconds, as a decimal string.
	Timestamp string
	// Nonce is a random decimal string.
	Nonce string
	// Random is the 16-byte prefix of the encrypted block.
	Random [RandomSize]byte
}

// Request is one encoded push: the query and body of the POST to Config.URL. Fault options edit
// it before it is sent.
type Request struct {
	// Query holds signature, timestamp, nonce and, for encrypted pushes in the query envelope,
	// msg_signature.
	Query url.Values
	// Body is the JSON or XML body.
	Body []byte
	// ContentType is the Content-Type header.
	ContentType string
	// MsgID is the MsgId of the message inside.
	MsgID int64
	// Timestamp is the timestamp the encoding used, wherever it travels (the body envelope
	// carries it in the body as TimeStamp).
	Timestamp string
	// Nonce is the nonce the encoding used, wherever it travels.
	Nonce string
	// MsgSignature is the msg_signature of an encrypted push (in the query, or in the body
	// envelope); empty for a plain push.
	MsgSignature string
}

// Clone returns a deep copy of r.
func (r *Request) Clone() *Request {
	c := *r
	c.Query = url.Values{}
	for k, v := range r.Query {
		c.Query[k] = append([]string(nil), v...)
	}
	c.Body = bytes.Clone(r.Body)
	return &c
}

// HTTPRequest builds the POST of r to target (Config.URL), merging r.Query into target's own
// query.
func (r *Request) HTTPRequest(ctx context.Context, target string) (*http.Request, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	for k, v := range r.Query {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", r.ContentType)
	return req, nil
}

// Encode builds the push of m under c with the randomness p. Empty settings of c take their
// defaults, except ClientID (see Config.WithDefaults).
//
//   - plain: the message; signature, timestamp, nonce in the query (unless UnsignedPlain).
//   - secure, query envelope: {"Encrypt"} or <xml><ToUserName/><Encrypt/></xml>; signature,
//     timestamp, nonce and msg_signature in the query.
//   - secure, body envelope: {"Nonce","TimeStamp","Encrypt","MsgSignature"} (XML: the same
//     elements); signature, timestamp, nonce in the query.
//   - compatible: the message plus Encrypt; all four parameters in the query.
func Encode(c Config, m Message, p Params) (*Request, error) {
	c = c.WithDefaults(c.ClientID)
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	plain, err := m.MarshalFormat(c.Format)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return encodePlain(c, plain, m.MsgID, m.ToUserName, p, func(enc string) ([]byte, error) {
		if c.Format == FormatJSON {
			return marshalJSON(struct {
				Message
				Encrypt string
			}{m, enc})
		}
		var w xmlWriter
		w.message(m)
		w.cdata("Encrypt", enc)
		return w.done(), nil
	})
}

// encodePlain builds the push of the rendered message plain (in c.Format) under c, whose
// defaults are filled in: compatible renders the body of compatible mode from Encrypt.
func encodePlain(c Config, plain []byte, msgID int64, toUser string, p Params, compatible func(enc string) ([]byte, error)) (*Request, error) {
	r := &Request{Query: url.Values{}, ContentType: ContentTypeXML, MsgID: msgID, Timestamp: p.Timestamp, Nonce: p.Nonce}
	if c.Format == FormatJSON {
		r.ContentType = ContentTypeJSON
	}
	if c.Mode != ModePlain || !c.UnsignedPlain {
		r.Query.Set(ParamSignature, Signature(c.Token, p.Timestamp, p.Nonce))
		r.Query.Set(ParamTimestamp, p.Timestamp)
		r.Query.Set(ParamNonce, p.Nonce)
	}
	if c.Mode == ModePlain {
		r.Body = plain
		return r, nil
	}
	if c.Mode != ModeSecure && c.Mode != ModeCompatible {
		return nil, fmt.Errorf("encode: mode %q; want plain, secure or compatible", c.Mode)
	}
	enc, err := Encrypt(c.EncodingAESKey, c.ClientID, plain, p.Random)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	msgSig := MsgSignature(c.Token, p.Timestamp, p.Nonce, enc)
	r.MsgSignature = msgSig
	if c.Mode == ModeSecure && c.Envelope == EnvelopeBody {
		r.Body, err = bodyEnvelope(c.Format, p, enc, msgSig)
		return r, err
	}
	r.Query.Set(ParamMsgSignature, msgSig)
	switch {
	case c.Mode == ModeSecure && c.Format == FormatJSON:
		r.Body, err = marshalJSON(struct{ Encrypt string }{enc})
	case c.Mode == ModeSecure:
		var w xmlWriter
		w.cdata("ToUserName", toUser)
		w.cdata("Encrypt", enc)
		r.Body = w.done()
	default:
		r.Body, err = compatible(enc)
	}
	return r, err
}

func bodyEnvelope(f Format, p Params, enc, msgSig string) ([]byte, error) {
	if f == FormatJSON {
		return marshalJSON(struct{ Nonce, TimeStamp, Encrypt, MsgSignature string }{p.Nonce, p.Timestamp, enc, msgSig})
	}
	var w xmlWriter
	w.cdata("Nonce", p.Nonce)
	w.cdata("TimeStamp", p.Timestamp)
	w.cdata("Encrypt", enc)
	w.cdata("MsgSignature", msgSig)
	return w.done(), nil
}

// ErrSignature is returned by Open when a signature does not match.
var ErrSignature = errors.New("signature mismatch")

// Opened is a push as a bot reads it.
type Opened struct {
	// Message is the user's message (decrypted when the push was encrypted).
	Message Message
	// Decrypted is the content of Encrypt, zero for a plain push.
	Decrypted Decrypted
}

// Open verifies and decodes a push the way a careful bot does: it checks signature (plain and
// compatible pushes; skipped under UnsignedPlain), msg_signature over Encrypt (secure and
// compatible), decrypts, checks the trailing id when c.ClientID is set, and parses the message in
// c.Format. In compatible mode it also checks that the plain fields equal the decrypted ones.
// It is the reference receiver for tests and Go bots; errors wrap ErrSignature or ErrPadding
// where those apply.
func Open(c Config, query url.Values, body []byte) (Opened, error) {
	c = c.WithDefaults(c.ClientID)
	w, err := parseWire(c.Format, body)
	if err != nil {
		return Opened{}, err
	}
	ts, nonce := query.Get(ParamTimestamp), query.Get(ParamNonce)
	if c.Mode == ModePlain {
		if !c.UnsignedPlain && !VerifySignature(c.Token, ts, nonce, query.Get(ParamSignature)) {
			return Opened{}, fmt.Errorf("%w: signature %q is not sha1(sort(token, timestamp %q, nonce %q))", ErrSignature, query.Get(ParamSignature), ts, nonce)
		}
		return Opened{Message: w.message()}, nil
	}
	msgSig := query.Get(ParamMsgSignature)
	if c.Mode == ModeSecure && c.Envelope == EnvelopeBody {
		ts, nonce, msgSig = w.TimeStamp, w.Nonce, w.MsgSignature
	}
	if c.Mode == ModeCompatible && !VerifySignature(c.Token, ts, nonce, query.Get(ParamSignature)) {
		return Opened{}, fmt.Errorf("%w: signature %q", ErrSignature, query.Get(ParamSignature))
	}
	if w.Encrypt == "" {
		return Opened{}, errors.New("open: no Encrypt in an encrypted push")
	}
	if !VerifyMsgSignature(c.Token, ts, nonce, w.Encrypt, msgSig) {
		return Opened{}, fmt.Errorf("%w: msg_signature %q is not sha1(sort(token, timestamp %q, nonce %q, Encrypt))", ErrSignature, msgSig, ts, nonce)
	}
	d, err := Decrypt(c.EncodingAESKey, w.Encrypt)
	if err != nil {
		return Opened{}, err
	}
	if c.ClientID != "" && d.ClientID != c.ClientID {
		return Opened{}, fmt.Errorf("open: trailing id %q; want %q", d.ClientID, c.ClientID)
	}
	m, err := ParseMessage(c.Format, d.Msg)
	if err != nil {
		return Opened{}, fmt.Errorf("open: decrypted %w", err)
	}
	if c.Mode == ModeCompatible && w.message() != m {
		return Opened{}, fmt.Errorf("open: plain fields %+v differ from the decrypted ones %+v", w.message(), m)
	}
	return Opened{Message: m, Decrypted: d}, nil
}
