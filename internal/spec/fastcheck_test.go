package spec

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/routers"
	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
)

func loadForTest(t testing.TB) *Spec {
	t.Helper()
	sp, err := Load(smartappmock.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// lookup turns "k=v" pairs into a parameter lookup; "k" alone is absent, "k=" present and empty.
func lookup(pairs ...string) func(string) (string, bool) {
	m := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if ok {
			m[k] = v
		}
	}
	return func(name string) (string, bool) { v, ok := m[name]; return v, ok }
}

// TestCompiledCheckMatchesKinOpenAPI pins the compiled send check to kin-openapi's VisitJSON: the
// same violations, in the same order, for valid and invalid parameters alike.
func TestCompiledCheckMatchesKinOpenAPI(t *testing.T) {
	t.Parallel()
	sp := loadForTest(t)
	if sp.c.Send == nil {
		t.Fatal("openapi.yaml's SendForm did not compile to the fast checker")
	}
	tests := []struct {
		name  string
		get   func(string) (string, bool)
		valid bool
	}{
		{"ValidText", lookup("user_type=1", "open_id=u", "msg_type=text", "content=hi", "pic_url="), true},
		{"ValidImage", lookup("user_type=2", "open_id=u", "msg_type=image", "pic_url=https://x/a.png", "content="), true},
		{"ValidUserTypeWithSpaces", lookup("user_type= 2 ", "open_id=u", "msg_type=text", "content=hi"), true},
		{"ValidUnicodeOpenID", lookup("user_type=1", "open_id=用户", "msg_type=text", "content=你好"), true},
		{"InvalidThreeFields", lookup("user_type=3", "open_id=", "msg_type=video", "content=hi"), false},
		{"InvalidNothing", lookup(), false},
		{"InvalidUserTypeWord", lookup("user_type=abc", "msg_type=text"), false},
		{"InvalidUserTypeFloat", lookup("user_type=1.0", "open_id=x", "msg_type=text", "content=a"), false},
		{"InvalidUserTypeHuge", lookup("user_type=99999999999999999999", "open_id=x", "msg_type=text", "content=a"), false},
		{"InvalidUserTypeNegative", lookup("user_type=-1", "open_id=x", "msg_type=text", "content=a"), false},
		{"InvalidUserTypeEmpty", lookup("user_type=", "open_id=x", "msg_type=text", "content=a"), false},
		{"InvalidMsgTypeCase", lookup("user_type=1", "open_id=x", "msg_type=Text", "content=a"), false},
		{"InvalidImageWithoutPicURL", lookup("open_id=x", "msg_type=image", "content=a"), false},
		{"BadUTF8OpenIDPassesTheSchema", lookup("user_type=1", "open_id=\xff", "msg_type=text", "content=a"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := sp.checkSendKin(tt.get)
			got, ok := sp.c.Send.check(tt.get)
			if !ok {
				t.Fatal("the compiled check could not decide")
			}
			got = append(got, sp.checkWhen(tt.get)...)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("compiled check differs from kin-openapi (-kin +compiled):\n%s", diff)
			}
			if (len(got) == 0) != tt.valid {
				t.Errorf("valid = %v, want %v (%v)", len(got) == 0, tt.valid, got)
			}
		})
	}
}

// FuzzCompiledCheck feeds arbitrary values to both checks: whenever the compiled check decides,
// it must agree with kin-openapi exactly.
func FuzzCompiledCheck(f *testing.F) {
	f.Add("1", "u", "text", "hi", "", uint8(0xff))
	f.Add("3", "", "video", "", "x", uint8(0x0f))
	f.Add(" 2", "\xff", "image", "", "https://x", uint8(0x1f))
	f.Add("1e3", "u", "TEXT", " ", " ", uint8(0x07))
	sp := loadForTest(f)
	f.Fuzz(func(t *testing.T, userType, openID, msgType, content, picURL string, present uint8) {
		vals := []string{userType, openID, msgType, content, picURL}
		names := []string{"user_type", "open_id", "msg_type", "content", "pic_url"}
		get := func(name string) (string, bool) {
			for i, n := range names {
				if n == name && present&(1<<i) != 0 {
					return vals[i], true
				}
			}
			return "", false
		}
		got, ok := sp.c.Send.check(get)
		if !ok {
			return
		}
		got = append(got, sp.checkWhen(get)...)
		if diff := cmp.Diff(sp.checkSendKin(get), got); diff != "" {
			t.Errorf("compiled check differs from kin-openapi (-kin +compiled):\n%s", diff)
		}
	})
}

// TestFindOperationLiteralRoutesMatchRouter checks the literal-path shortcut against the router for
// every operation of the document and a few near misses.
func TestFindOperationLiteralRoutesMatchRouter(t *testing.T) {
	t.Parallel()
	sp := loadForTest(t)
	type found struct {
		Op    string
		Known bool
	}
	for _, tc := range []struct{ method, path string }{
		{"POST", smartappmock.SendPath}, {"GET", smartappmock.SendPath}, {"GET", smartappmock.TokenPath},
		{"POST", smartappmock.TokenPath}, {"PUT", smartappmock.TokenPath}, {"POST", smartappmock.SendPath + "/"},
		{"POST", "/rest/2.0/smartapp/message/custom/sendbytp"}, {"GET", "/"},
		{"post", smartappmock.SendPath}, {"HEAD", smartappmock.TokenPath}, {"OPTIONS", smartappmock.SendPath},
		{"POST", "/rest/2.0/smartapp/message/custom/SEND"}, {"POST", "//rest/2.0/smartapp/message/custom/send"},
		{"POST", "/rest/2.0/smartapp/message/custom/send%2F"}, {"POST", "/rest/2.0/smartapp/message/custom/send?x=1"},
		{"POST", "/rest/2.0/smartapp/message/custom/../custom/send"}, {"GET", "/oauth/2.0"},
	} {
		req := httptest.NewRequest(tc.method, "http://127.0.0.1"+tc.path, nil)
		var via found
		via.Op, via.Known = sp.FindOperation(req)
		var router found
		d, err := sp.full()
		if err != nil {
			t.Fatal(err)
		}
		if route, _, err := d.router.FindRoute(req); err == nil {
			router = found{route.Operation.OperationID, true}
		} else {
			router.Known = errors.Is(err, routers.ErrMethodNotAllowed)
		}
		if diff := cmp.Diff(router, via); diff != "" {
			t.Errorf("%s %s: FindOperation differs from the router (-router +FindOperation):\n%s", tc.method, tc.path, diff)
		}
	}
}

// TestCheckForm_MatchesKinOpenAPI: every operation's form check (x-smartapp-form) answers as
// kin-openapi's VisitJSON does, where the compiled check decides and where it leaves the
// parameters to kin-openapi (an integer field sent as a word, with no enum to report).
func TestCheckForm_MatchesKinOpenAPI(t *testing.T) {
	t.Parallel()
	sp := loadForTest(t)
	tests := []struct {
		name  string
		op    string
		get   func(string) (string, bool)
		valid bool
	}{
		{"LoginV1_Valid", OpLoginV1Query, lookup("code=c", "client_id=k", "sk=s"), true},
		{"LoginV1_MissingSK", OpLoginV1Form, lookup("code=c", "client_id=k"), false},
		{"TPLogin_WrongGrant", OpTPLogin, lookup("code=c", "grant_type=password"), false},
		{"Subscribe_EmptyData", OpSubscribeSend, lookup("template_id=t", "touser_openId=u", "subscribe_id=s", "data="), false},
		{"Template_SceneTypeFour", OpTemplateSend, lookup("template_id=t", "data={}", "scene_id=s", "scene_type=4"), false},
		{"Template_SceneTypeWord", OpTemplateSend, lookup("template_id=t", "data={}", "scene_id=s", "scene_type=form"), false},
		{"DetectRisk_Valid", OpDetectRisk, lookup("appkey=k", "xtoken={}", "type=marketing", "clientip=1.2.3.4", "ts=1700000000"), true},
		{"DetectRisk_TsAWord_Kin", OpDetectRisk, lookup("appkey=k", "xtoken={}", "type=marketing", "clientip=1.2.3.4", "ts=soon"), false},
		{"AppInfo_NoForm", OpAppInfo, lookup(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := sp.CheckForm(tt.op, tt.get)
			if (len(got) == 0) != tt.valid {
				t.Errorf("valid = %v, want %v (%v)", len(got) == 0, tt.valid, got)
			}
			f, ok := sp.c.Forms[tt.op]
			if !ok {
				return
			}
			if diff := cmp.Diff(sp.checkFormKin(f.Schema, tt.get), got); diff != "" {
				t.Errorf("CheckForm differs from kin-openapi (-kin +CheckForm):\n%s", diff)
			}
		})
	}
}
