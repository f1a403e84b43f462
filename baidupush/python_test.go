package baidupush

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/internal/testenv"
)

// pyCase is one push for the Python decoder, in its input format.
type pyCase struct {
	Name           string            `json:"name"`
	Token          string            `json:"token"`
	EncodingAESKey string            `json:"encoding_aes_key"`
	ClientID       string            `json:"client_id"`
	Format         Format            `json:"format"`
	Query          map[string]string `json:"query"`
	Body           string            `json:"body"`
	Raw            bool              `json:"raw,omitempty"`
}

// pyResult is what the Python decoder found.
type pyResult struct {
	Name           string   `json:"name"`
	SignatureOK    *bool    `json:"signature_ok"`
	MsgSignatureOK *bool    `json:"msg_signature_ok"`
	Encrypted      bool     `json:"encrypted"`
	Pad            *int     `json:"pad"`
	ClientID       *string  `json:"client_id"`
	ClientIDOK     *bool    `json:"client_id_ok"`
	Message        *Message `json:"message"`
	Error          *string  `json:"error"`
	Raw            *string  `json:"raw,omitempty"`
}

func ptr[T any](v T) *T { return &v }

// withPad returns m with a text whose secure encoding under c needs exactly pad bytes of padding.
func withPad(t *testing.T, c Config, m Message, pad int) Message {
	t.Helper()
	for k := 1; k < 200; k++ {
		m.Content = strings.Repeat("好", k%3) + strings.Repeat("p", k) // some multi-byte UTF-8 too
		b, err := m.MarshalFormat(c.Format)
		if err != nil {
			t.Fatal(err)
		}
		if padOf(len(b), c.ClientID) == pad {
			return m
		}
	}
	t.Fatalf("no content gives padding %d", pad)
	return m
}

func TestPython_DecodesWhatWeSend(t *testing.T) {
	t.Parallel()
	python := testenv.Require(t, "python3", "apt-get install python3")

	type want struct {
		c         Config
		m         Message
		pad       int // 0 for plain
		signature *bool
		msgSig    *bool
		clientOK  *bool
	}
	secureJSON, secureXML := goldenConfig(ModeSecure, FormatJSON), goldenConfig(ModeSecure, FormatXML)
	bodyXML := secureXML
	bodyXML.Envelope = EnvelopeBody
	bodyJSON := secureJSON
	bodyJSON.Envelope = EnvelopeBody
	compatXML := goldenConfig(ModeCompatible, FormatXML)
	cases := map[string]want{
		"plain_json_text":  {c: goldenConfig(ModePlain, FormatJSON), m: docText, signature: ptr(true)},
		"plain_xml_image":  {c: goldenConfig(ModePlain, FormatXML), m: docImage, signature: ptr(true)},
		"secure_xml_image": {c: secureXML, m: docImage, pad: padOfMessage(t, secureXML, docImage), signature: ptr(true), msgSig: ptr(true), clientOK: ptr(true)},
	}
	// Every interesting padding, in each envelope: 1, 15 and 16 fit a 16-byte unpadder; 17 to 32
	// do not, and 32 is a whole block of padding.
	for _, pad := range []int{1, 15, 16, 17, 24, 31, 32} {
		cases[fmt.Sprintf("secure_json_pad%02d", pad)] = want{c: secureJSON, m: withPad(t, secureJSON, docText, pad), pad: pad, signature: ptr(true), msgSig: ptr(true), clientOK: ptr(true)}
	}
	for _, pad := range []int{17, 32} {
		cases[fmt.Sprintf("secure_body_xml_pad%02d", pad)] = want{c: bodyXML, m: withPad(t, bodyXML, docText, pad), pad: pad, signature: ptr(true), msgSig: ptr(true), clientOK: ptr(true)}
		cases[fmt.Sprintf("secure_body_json_pad%02d", pad)] = want{c: bodyJSON, m: withPad(t, bodyJSON, docText, pad), pad: pad, signature: ptr(true), msgSig: ptr(true), clientOK: ptr(true)}
		cases[fmt.Sprintf("compatible_xml_pad%02d", pad)] = want{c: compatXML, m: withPad(t, compatXML, docText, pad), pad: pad, signature: ptr(true), msgSig: ptr(true), clientOK: ptr(true)}
	}

	var in struct {
		Cases []pyCase `json:"cases"`
	}
	for name, w := range cases {
		p := fixedParams
		copy(p.Random[:], name) // a different prefix per case
		r, err := Encode(w.c, w.m, p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		in.Cases = append(in.Cases, pyCase{Name: name, Token: w.c.Token, EncodingAESKey: w.c.EncodingAESKey, ClientID: w.c.ClientID,
			Format: w.c.Format, Query: flat(r), Body: string(r.Body)})
	}
	// Three pushes the decoder must not accept: wrong signatures and a foreign trailing id.
	bad := map[string]want{}
	for _, f := range []struct {
		name string
		c    Config
		opt  Option
	}{
		{"plain_wrong_signature", goldenConfig(ModePlain, FormatJSON), WrongSignature()},
		{"secure_wrong_msg_signature", secureJSON, WrongSignature()},
		{"secure_body_wrong_msg_signature", bodyXML, WrongSignature()},
	} {
		r, err := Encode(f.c, docText, fixedParams)
		if err != nil {
			t.Fatal(err)
		}
		s := newSettings([]Option{f.opt})
		for _, h := range s.hooks {
			h(1, r)
		}
		w := want{c: f.c, m: docText, signature: ptr(false)}
		if f.c.Encrypted() {
			w.msgSig, w.clientOK, w.pad = ptr(false), ptr(true), padOfMessage(t, f.c, docText)
		}
		bad[f.name] = w
		in.Cases = append(in.Cases, pyCase{Name: f.name, Token: f.c.Token, EncodingAESKey: f.c.EncodingAESKey, ClientID: f.c.ClientID,
			Format: f.c.Format, Query: flat(r), Body: string(r.Body)})
	}
	foreign := secureXML
	foreign.ClientID = "another-app"
	r, err := Encode(foreign, docText, fixedParams)
	if err != nil {
		t.Fatal(err)
	}
	bad["secure_foreign_client_id"] = want{c: foreign, m: docText, pad: padOfMessage(t, foreign, docText), signature: ptr(true), msgSig: ptr(true), clientOK: ptr(false)}
	in.Cases = append(in.Cases, pyCase{Name: "secure_foreign_client_id", Token: foreign.Token, EncodingAESKey: foreign.EncodingAESKey,
		ClientID: secureXML.ClientID, Format: FormatXML, Query: flat(r), Body: string(r.Body)})
	for k, v := range bad {
		cases[k] = v
	}

	stdin, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), python, "testdata/baidu_decode.py")
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("baidu_decode.py: %v\n%s", err, stderr.String())
	}
	var got struct {
		AES     string     `json:"aes"`
		Results []pyResult `json:"results"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("baidu_decode.py wrote %q: %v", out, err)
	}
	t.Logf("Python decoder: %d pushes, AES by %s", len(got.Results), got.AES)
	if len(got.Results) != len(cases) {
		t.Fatalf("Python decoded %d pushes; want %d", len(got.Results), len(cases))
	}
	for _, res := range got.Results {
		w := cases[res.Name]
		exp := pyResult{Name: res.Name, SignatureOK: w.signature, MsgSignatureOK: w.msgSig, Encrypted: w.c.Encrypted(), Message: ptr(w.m), ClientIDOK: w.clientOK}
		if w.c.Encrypted() {
			exp.Pad, exp.ClientID = ptr(w.pad), ptr(w.c.ClientID)
		}
		if diff := cmp.Diff(exp, res); diff != "" {
			t.Errorf("%s: Python decoder mismatch (-want +got):\n%s", res.Name, diff)
		}
	}
	over16 := 0
	for _, res := range got.Results {
		if res.Pad != nil && *res.Pad > 16 && res.MsgSignatureOK != nil && *res.MsgSignatureOK {
			over16++
		}
	}
	if over16 < 5 {
		t.Errorf("only %d verified pushes had padding over 16 bytes; want at least 5", over16)
	}
}

// padOfMessage is the padding of m's secure encoding under c.
func padOfMessage(t *testing.T, c Config, m Message) int {
	t.Helper()
	b, err := m.MarshalFormat(c.Format)
	if err != nil {
		t.Fatal(err)
	}
	return padOf(len(b), c.ClientID)
}

func flat(r *Request) map[string]string {
	q := map[string]string{}
	for k := range r.Query {
		q[k] = r.Query.Get(k)
	}
	return q
}
