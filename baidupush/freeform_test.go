package baidupush

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// messageFields is m as free-form fields.
func messageFields(m Message) Fields {
	f := Fields{{Name: "ToUserName", Value: m.ToUserName}, {Name: "FromUserName", Value: m.FromUserName},
		{Name: "CreateTime", Number: m.CreateTime, IsNumber: true}, {Name: "MsgType", Value: m.MsgType}}
	if m.MsgType == MsgTypeImage {
		f = append(f, Field{Name: "PicUrl", Value: m.PicURL})
	} else {
		f = append(f, Field{Name: "Content", Value: m.Content})
	}
	return append(f, Field{Name: "MsgId", Number: m.MsgID, IsNumber: true})
}

// A documented message given as free-form fields is encoded byte for byte as Encode encodes it,
// in every mode, format and envelope.
func TestEncodeFields_SameBytesAsEncodeForMessages(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModePlain, ModeSecure, ModeCompatible} {
		for _, f := range []Format{FormatJSON, FormatXML} {
			for _, env := range []Envelope{EnvelopeQuery, EnvelopeBody} {
				for _, m := range []Message{docText, docImage} {
					c := goldenConfig(mode, f)
					c.Envelope = env
					want, err := Encode(c, m, fixedParams)
					if err != nil {
						t.Fatal(err)
					}
					got, err := EncodeFields(c, messageFields(m), m.MsgID, fixedParams)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%s %s %s %s: mismatch (-Encode +EncodeFields):\n%s", mode, f, env, m.MsgType, diff)
					}
				}
			}
		}
	}
}

func TestFields_EventRenderedInOrder(t *testing.T) {
	t.Parallel()
	f := Fields{{Name: "CouponId", Value: "c-1"}, {Name: "Event", Value: "user_get_coupon"}, {Name: "MsgType", Value: "event"},
		{Name: "CreateTime", Number: 1472551036, IsNumber: true}, {Name: "FromUserName", Value: "u"}, {Name: "ToUserName", Value: "app"}}
	SortFields(f)
	j, err := f.MarshalFormat(FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := f.MarshalFormat(FormatXML)
	if diff := cmp.Diff(`{"ToUserName":"app","FromUserName":"u","CreateTime":1472551036,"MsgType":"event","Event":"user_get_coupon","CouponId":"c-1"}`, string(j)); diff != "" {
		t.Errorf("JSON mismatch (-want +got):\n%s", diff)
	}
	wantXML := `<xml><ToUserName><![CDATA[app]]></ToUserName><FromUserName><![CDATA[u]]></FromUserName><CreateTime>1472551036</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[user_get_coupon]]></Event><CouponId><![CDATA[c-1]]></CouponId></xml>`
	if diff := cmp.Diff(wantXML, string(x)); diff != "" {
		t.Errorf("XML mismatch (-want +got):\n%s", diff)
	}
}

func TestFields_ValidateRefuses(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		f    Fields
		want string
	}{
		"MissingMsgType": {Fields{{Name: "ToUserName", Value: "a"}, {Name: "FromUserName", Value: "u"}}, "field MsgType: missing"},
		"BadName":        {Fields{{Name: "To User", Value: "a"}}, `name "To User"`},
		"Twice":          {Fields{{Name: "MsgType", Value: "a"}, {Name: "MsgType", Value: "b"}}, "field MsgType: given twice"},
	} {
		err := tc.f.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v; want %q", name, err, tc.want)
		}
	}
}

// DeliverFields delivers a secure event that a receiver decrypts to the same fields.
func TestDeliverFields_SecureEventDecrypts(t *testing.T) {
	t.Parallel()
	c := goldenConfig(ModeSecure, FormatJSON)
	var got string
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		in, err := parseWire(FormatJSON, body)
		q := r.URL.Query()
		if err == nil && VerifyMsgSignature(c.Token, q.Get(ParamTimestamp), q.Get(ParamNonce), in.Encrypt, q.Get(ParamMsgSignature)) {
			if d, err := Decrypt(c.EncodingAESKey, in.Encrypt); err == nil {
				got = string(d.Msg)
				_, _ = w.Write([]byte("success"))
				return
			}
		}
		w.WriteHeader(http.StatusForbidden)
	}))
	defer bot.Close()
	c.URL = bot.URL
	f := Fields{{Name: "ToUserName", Value: "app"}, {Name: "FromUserName", Value: "u"}, {Name: "MsgType", Value: "event"}, {Name: "Event", Value: "x"}}
	res := DeliverFields(context.Background(), nil, c, f, 7)
	if !res.Delivered() || res.MsgID != 7 {
		t.Fatalf("DeliverFields = %+v", res)
	}
	if want := `{"ToUserName":"app","FromUserName":"u","MsgType":"event","Event":"x"}`; got != want {
		t.Errorf("decrypted %s; want %s", got, want)
	}
}
