package baidupush

import (
	"net/url"
	"testing"
)

// FuzzOpen feeds arbitrary bodies and queries to Open in every mode and format: it must refuse
// or accept, never panic, and whatever it accepts in plain mode it must have verified.
func FuzzOpen(f *testing.F) {
	for _, c := range []Config{goldenConfig(ModePlain, FormatJSON), goldenConfig(ModeSecure, FormatXML), goldenConfig(ModeCompatible, FormatJSON)} {
		r, err := Encode(c, docText, fixedParams)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(r.Query.Encode(), r.Body)
	}
	f.Add("msg_signature=x", []byte(`<xml><Encrypt>AAAA</Encrypt></xml>`))
	f.Fuzz(func(t *testing.T, rawQuery string, body []byte) {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		for _, mode := range []Mode{ModePlain, ModeSecure, ModeCompatible} {
			for _, f := range []Format{FormatJSON, FormatXML} {
				c := goldenConfig(mode, f)
				if _, err := Open(c, q, body); err == nil && mode == ModePlain &&
					!VerifySignature(c.Token, q.Get(ParamTimestamp), q.Get(ParamNonce), q.Get(ParamSignature)) {
					t.Errorf("Open accepted a plain push whose signature does not verify")
				}
			}
		}
	})
}

// FuzzDecrypt: Decrypt never panics, and what it returns fits in what it was given.
func FuzzDecrypt(f *testing.F) {
	enc, err := Encrypt(testKey, "id", []byte("hello"), [RandomSize]byte{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc)
	f.Add("AAAAAAAAAAAAAAAAAAAAAA==")
	f.Fuzz(func(t *testing.T, encrypt string) {
		d, err := Decrypt(testKey, encrypt)
		if err == nil && (d.PadLen < 1 || d.PadLen > BlockSize || len(d.Msg)+len(d.ClientID) > len(encrypt)) {
			t.Errorf("Decrypt(%q) = %d message bytes, padding %d: impossible", encrypt, len(d.Msg), d.PadLen)
		}
	})
}
