package baidupush

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// docText and docImage are the messages of docs/baidu-push.md.
var (
	docText = Message{ToUserName: "toUser", FromUserName: "fromUser", CreateTime: 1482048670, MsgType: MsgTypeText,
		Content: "this is a test", MsgID: 1234567890123456}
	docImage = Message{ToUserName: "toUser", FromUserName: "fromUser", CreateTime: 1482048670, MsgType: MsgTypeImage,
		PicURL: "https://example.com/a.png", MsgID: 1234567890123457}
)

// fixedParams is the randomness of every golden push.
var fixedParams = Params{Timestamp: "1714036504", Nonce: "1514711492", Random: [RandomSize]byte([]byte("0123456789abcdef"))}

func goldenConfig(mode Mode, f Format) Config {
	return Config{URL: "http://bot.example/push", Token: "AAAAA", EncodingAESKey: testKey, Mode: mode, Format: f, ClientID: "clientid-golden"}
}

func TestMessageMarshal_BaiduSamplesByteForByte(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		m    Message
		f    Format
		want string
	}{
		{"JSONText", docText, FormatJSON, `{"ToUserName":"toUser","FromUserName":"fromUser","CreateTime":1482048670,"MsgType":"text","Content":"this is a test","MsgId":1234567890123456}`},
		{"XMLText", docText, FormatXML, `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1482048670</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[this is a test]]></Content><MsgId>1234567890123456</MsgId></xml>`},
		{"XMLImage", docImage, FormatXML, `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1482048670</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[https://example.com/a.png]]></PicUrl><MsgId>1234567890123457</MsgId></xml>`},
		{"JSONImage", docImage, FormatJSON, `{"ToUserName":"toUser","FromUserName":"fromUser","CreateTime":1482048670,"MsgType":"image","PicUrl":"https://example.com/a.png","MsgId":1234567890123457}`},
		{"JSONNoHTMLEscaping", Message{ToUserName: "a", FromUserName: "b", CreateTime: 1, MsgType: "text", Content: "<b>&</b>", MsgID: 1}, FormatJSON, `{"ToUserName":"a","FromUserName":"b","CreateTime":1,"MsgType":"text","Content":"<b>&</b>","MsgId":1}`},
		{"XMLCDATAEndSplit", Message{ToUserName: "a", FromUserName: "b", CreateTime: 1, MsgType: "text", Content: "x]]>y", MsgID: 1}, FormatXML, `<xml><ToUserName><![CDATA[a]]></ToUserName><FromUserName><![CDATA[b]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[x]]]]><![CDATA[>y]]></Content><MsgId>1</MsgId></xml>`},
	} {
		got, err := tc.m.MarshalFormat(tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if string(got) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
		back, err := ParseMessage(tc.f, got)
		if err != nil {
			t.Fatalf("%s: ParseMessage: %v", tc.name, err)
		}
		if diff := cmp.Diff(tc.m, back); diff != "" {
			t.Errorf("%s: ParseMessage(MarshalFormat) mismatch (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestMessageValidate_Outcomes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		edit    func(*Message)
		wantErr string
	}{
		{"Text_Valid", func(*Message) {}, ""},
		{"Image_Valid", func(m *Message) { *m = docImage }, ""},
		{"NoContent", func(m *Message) { m.Content = "" }, "Content: empty in a text message"},
		{"TextWithPicURL", func(m *Message) { m.PicURL = "x" }, "PicUrl: set in a text message"},
		{"ImageWithoutPicURL", func(m *Message) { m.MsgType, m.Content = MsgTypeImage, "" }, "PicUrl: empty"},
		{"ImageWithContent", func(m *Message) { *m = docImage; m.Content = "x" }, "Content: set in an image message"},
		{"UnknownType", func(m *Message) { m.MsgType = "voice" }, `MsgType: "voice"`},
		{"NoMsgID", func(m *Message) { m.MsgID = 0 }, "MsgId: 0"},
		{"NoOpenID", func(m *Message) { m.FromUserName = "" }, "FromUserName: empty"},
		{"NoAppID", func(m *Message) { m.ToUserName = "" }, "ToUserName: empty"},
		{"NoTime", func(m *Message) { m.CreateTime = 0 }, "CreateTime: 0"},
	} {
		m := docText
		tc.edit(&m)
		err := m.Validate()
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: Validate() = %v; want %q", tc.name, err, tc.wantErr)
		}
	}
}

// render is the golden form of a push: request line, content type, blank line, body.
func render(c Config, r *Request) string {
	hr, err := r.HTTPRequest(context.Background(), c.URL)
	if err != nil {
		return "error: " + err.Error()
	}
	return "POST " + hr.URL.String() + "\nContent-Type: " + r.ContentType + "\n\n" + string(r.Body) + "\n"
}

func TestEncode_Golden(t *testing.T) {
	t.Parallel()
	unsigned := goldenConfig(ModePlain, FormatJSON)
	unsigned.UnsignedPlain = true
	bodyJSON, bodyXML := goldenConfig(ModeSecure, FormatJSON), goldenConfig(ModeSecure, FormatXML)
	bodyJSON.Envelope, bodyXML.Envelope = EnvelopeBody, EnvelopeBody
	for _, tc := range []struct {
		name string
		c    Config
		m    Message
	}{
		{"plain_json_text", goldenConfig(ModePlain, FormatJSON), docText},
		{"plain_xml_text", goldenConfig(ModePlain, FormatXML), docText},
		{"plain_json_image", goldenConfig(ModePlain, FormatJSON), docImage},
		{"plain_xml_image", goldenConfig(ModePlain, FormatXML), docImage},
		{"plain_json_unsigned", unsigned, docText},
		{"secure_json_text", goldenConfig(ModeSecure, FormatJSON), docText},
		{"secure_xml_text", goldenConfig(ModeSecure, FormatXML), docText},
		{"secure_xml_image", goldenConfig(ModeSecure, FormatXML), docImage},
		{"secure_body_json_text", bodyJSON, docText},
		{"secure_body_xml_text", bodyXML, docText},
		{"compatible_json_text", goldenConfig(ModeCompatible, FormatJSON), docText},
		{"compatible_xml_text", goldenConfig(ModeCompatible, FormatXML), docText},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := Encode(tc.c, tc.m, fixedParams)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got := render(tc.c, r)
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
			}
			// What a careful bot reads back is the message that went in.
			o, err := Open(tc.c, r.Query, r.Body)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if diff := cmp.Diff(tc.m, o.Message); diff != "" {
				t.Errorf("Open mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncode_QueryParametersPerMode(t *testing.T) {
	t.Parallel()
	unsigned := goldenConfig(ModePlain, FormatXML)
	unsigned.UnsignedPlain = true
	body := goldenConfig(ModeSecure, FormatXML)
	body.Envelope = EnvelopeBody
	for _, tc := range []struct {
		name string
		c    Config
		want []string
	}{
		{"Plain_Signed", goldenConfig(ModePlain, FormatXML), []string{"nonce", "signature", "timestamp"}},
		{"Plain_Unsigned", unsigned, nil},
		{"Secure_QueryEnvelope", goldenConfig(ModeSecure, FormatXML), []string{"msg_signature", "nonce", "signature", "timestamp"}},
		{"Secure_BodyEnvelope", body, []string{"nonce", "signature", "timestamp"}},
		{"Compatible", goldenConfig(ModeCompatible, FormatJSON), []string{"msg_signature", "nonce", "signature", "timestamp"}},
	} {
		r, err := Encode(tc.c, docText, fixedParams)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for k := range r.Query {
			got = append(got, k)
		}
		if diff := cmp.Diff(tc.want, got, sortStrings); diff != "" {
			t.Errorf("%s: query keys mismatch (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestEncode_RefusesInvalidInput(t *testing.T) {
	t.Parallel()
	bad := goldenConfig(ModeSecure, FormatJSON)
	bad.EncodingAESKey = "short"
	for _, tc := range []struct {
		name    string
		c       Config
		m       Message
		wantErr string
	}{
		{"InvalidMessage", goldenConfig(ModePlain, FormatJSON), Message{}, "ToUserName: empty"},
		{"BadKey", bad, docText, "encoding_aes_key: 5 characters"},
		{"UnknownFormat", Config{Format: "yaml", Token: "t"}, docText, `format "yaml"`},
		{"UnknownMode", Config{Mode: "aes", Token: "t"}, docText, `mode "aes"`},
	} {
		_, err := Encode(tc.c, tc.m, fixedParams)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: Encode = %v; want an error containing %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestOpen_Refuses(t *testing.T) {
	t.Parallel()
	encode := func(c Config) *Request {
		r, err := Encode(c, docText, fixedParams)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	plain, secure, compat := goldenConfig(ModePlain, FormatJSON), goldenConfig(ModeSecure, FormatXML), goldenConfig(ModeCompatible, FormatJSON)
	otherToken := func(c Config) Config { c.Token = "BBBBB"; return c }
	otherID := func(c Config) Config { c.ClientID = "someone-else"; return c }
	otherKey := func(c Config) Config { c.EncodingAESKey = strings.Repeat("Z", 43); return c }
	setQuery := func(r *Request, k, v string) *Request { r.Query.Set(k, v); return r }
	for _, tc := range []struct {
		name    string
		c       Config // the receiver's configuration
		r       *Request
		wantIs  error
		wantErr string
	}{
		{"Plain_WrongToken", otherToken(plain), encode(plain), ErrSignature, "signature"},
		{"Plain_NoSignature", plain, setQuery(encode(plain), ParamSignature, ""), ErrSignature, "signature"},
		{"Plain_OtherTimestamp", plain, setQuery(encode(plain), ParamTimestamp, "1714036505"), ErrSignature, "signature"},
		{"Secure_WrongToken", otherToken(secure), encode(secure), ErrSignature, "msg_signature"},
		{"Secure_MsgSignatureIsPlainSignature", secure, setQuery(encode(secure), ParamMsgSignature, Signature("AAAAA", fixedParams.Timestamp, fixedParams.Nonce)), ErrSignature, "msg_signature"},
		{"Secure_WrongKey", otherKey(secure), encode(secure), ErrPadding, "bad padding"},
		{"Secure_WrongTrailingID", otherID(secure), encode(secure), nil, `trailing id "clientid-golden"; want "someone-else"`},
		{"Secure_PlainBody", secure, encode(goldenConfig(ModePlain, FormatXML)), nil, "no Encrypt"},
		{"Compatible_WrongSignature", compat, setQuery(encode(compat), ParamSignature, "0"), ErrSignature, "signature"},
		{"Compatible_PlainFieldsTampered", compat, func() *Request {
			r := encode(compat)
			r.Body = []byte(strings.Replace(string(r.Body), "this is a test", "this is a lie!", 1))
			return r
		}(), nil, "differ from the decrypted ones"},
		{"JSONReceiverGetsXML", plain, encode(goldenConfig(ModePlain, FormatXML)), nil, "body is not a json push"},
	} {
		_, err := Open(tc.c, tc.r.Query, tc.r.Body)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
			t.Errorf("%s: Open = %v; want an error containing %q (is %v)", tc.name, err, tc.wantErr, tc.wantIs)
		}
	}
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })
