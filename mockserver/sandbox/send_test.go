package sandbox

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/store"
)

var (
	biz = func(code int, msg string) outcome { return outcome{smartappmock.LayerBusiness, code, msg} }
	gw  = func(code int, msg string) outcome { return outcome{smartappmock.LayerGateway, code, msg} }

	okMsg          = biz(0, "success")
	errInvalid     = biz(3001, "请求参数有误")
	errOpenID      = biz(30022, "不合法的 OpenID")
	errQuota       = biz(90001, "客服接口下行条数超过上限")
	errCapability  = biz(90002, "请确认小程序已开通客服能力")
	errNoToken     = gw(100, "Invalid parameter")
	errBadToken    = gw(110, "Access token invalid or no longer valid")
	errExpired     = gw(111, "Access token expired")
	errDailyLimit  = gw(17, "Open api daily request limit reached")
	errQPSLimit    = gw(18, "Open api qps request limit reached")
	errUnsupported = gw(3, "Unsupported openapi method")
)

func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		image := url.Values{"user_type": {"2"}, "open_id": {"user-a"}, "msg_type": {"image"}, "content": {""}, "pic_url": {"https://img.example/a.png"}}
		tests := []struct {
			name       string
			token      string
			form       url.Values
			want       outcome
			wantReason string // substring of the reason header
		}{
			{"Success_Text", "static-token-a", text("user-a", "你好 👋"), okMsg, "reply 1 of 5"},
			{"Success_Image", "static-token-a", image, okMsg, "reply 1 of 5"},
			{"ErrNoToken", "", text("user-a", "hi"), errNoToken, "access_token: missing"},
			{"ErrTokenUnknown", "24.0123456789abcdef0123456789abcdef.2592000.1.282335-1001", text("user-a", "hi"), errBadToken, "not issued"},
			{"ErrInvalid_MissingOpenID", "static-token-a", url.Values{"user_type": {"1"}, "msg_type": {"text"}, "content": {"x"}}, errInvalid, "open_id: required but missing"},
			{"ErrInvalid_EmptyOpenID", "static-token-a", text("", "x"), errInvalid, "open_id"},
			{"ErrInvalid_UserType3", "static-token-a", url.Values{"user_type": {"3"}, "open_id": {"user-a"}, "msg_type": {"text"}, "content": {"x"}}, errInvalid, "user_type: must be one of 1|2"},
			{"ErrInvalid_UserTypeNotNumber", "static-token-a", url.Values{"user_type": {"guest"}, "open_id": {"user-a"}, "msg_type": {"text"}, "content": {"x"}}, errInvalid, "user_type"},
			{"ErrInvalid_MsgTypeVoice", "static-token-a", url.Values{"user_type": {"1"}, "open_id": {"user-a"}, "msg_type": {"voice"}, "content": {"x"}}, errInvalid, "msg_type: must be one of text|image"},
			{"ErrInvalid_TextWithoutContent", "static-token-a", text("user-a", ""), errInvalid, "content: required when msg_type is text"},
			{"ErrInvalid_ImageWithoutPicURL", "static-token-a", url.Values{"user_type": {"1"}, "open_id": {"user-a"}, "msg_type": {"image"}, "content": {"x"}}, errInvalid, "pic_url: required when msg_type is image"},
			{"ErrInvalid_NotUTF8", "static-token-a", text("user-a", "\xff\xfe"), errInvalid, "content: not valid UTF-8"},
			{"ErrOpenIDForeign", "static-token-a", text("user-of-b", "hi"), errOpenID, "another mini program"},
			{"ErrOpenIDNotOfApp", "static-token-b", text("stranger", "hi"), errOpenID, "not a user of app 1002"},
			{"ErrCapabilityOff", "static-token-b", text("user-b", "hi"), errCapability, "capability is off"},
			{"ErrQuota_NoUserMessage", "static-token-a", text("never-wrote", "hi"), errQuota, "no user message"},
			{"Magic_Errno3001", "static-token-a", text("errno_3001", "hi"), errInvalid, "magic open_id"},
			{"Magic_Errno30022", "static-token-a", text("errno_30022", "hi"), errOpenID, "magic open_id"},
			{"Magic_Errno90001", "static-token-a", text("errno_90001", "hi"), errQuota, "magic open_id"},
			{"Magic_Errno90002", "static-token-a", text("errno_90002", "hi"), errCapability, "magic open_id"},
			{"Magic_ErrorCode100", "error_code_100", text("user-a", "hi"), errNoToken, "magic access_token"},
			{"Magic_ErrorCode110", "error_code_110", text("user-a", "hi"), errBadToken, "magic access_token"},
			{"Magic_ErrorCode111", "error_code_111", text("user-a", "hi"), errExpired, "magic access_token"},
			{"Magic_ErrorCode17", "error_code_17", text("user-a", "hi"), errDailyLimit, "magic access_token"},
			{"Magic_ErrorCode18", "error_code_18", text("user-a", "hi"), errQPSLimit, "magic access_token"},
			{"Magic_GatewayBeforeValidation", "error_code_110", url.Values{}, errBadToken, "magic"},
			{"Magic_UnknownErrnoIsAnOpenID", "static-token-a", text("errno_12345", "hi"), errQuota, "no user message"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				f := k.setup(t, "")
				res := f.sendForm(tt.token, tt.form)
				if res.Status != http.StatusOK {
					t.Errorf("status = %d, want 200", res.Status)
				}
				if diff := cmp.Diff(tt.want, res.outcome(t)); diff != "" {
					t.Errorf("outcome mismatch (-want +got):\n%s", diff)
				}
				if got := res.Header.Get(smartappmock.HeaderReason); !strings.Contains(got, tt.wantReason) {
					t.Errorf("reason header = %q, want it to contain %q", got, tt.wantReason)
				}
				if got, want := res.Header.Get("Content-Type"), "application/json"; got != want {
					t.Errorf("Content-Type = %q, want %q", got, want)
				}
				if got, want := res.Header.Get(smartappmock.HeaderOutcome), string(tt.want.Layer)+" "+itoa(tt.want.Code); got != want {
					t.Errorf("outcome header = %q, want %q", got, want)
				}
				// The reason never leaks into the body, and no error message says "success".
				if tt.want.Code != 0 && strings.Contains(string(res.Body), "success") {
					t.Errorf("error body contains the word success: %s", res.Body)
				}
				if es := f.journal(store.Query{}); len(es) != 1 || es[0].Code != tt.want.Code || es[0].Reason == "" {
					t.Errorf("journal = %+v, want one entry with code %d and a reason", es, tt.want.Code)
				}
			})
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		t.Run("ErrTokenExpired_After30DaysOnAppClock", func(t *testing.T) {
			t.Parallel()
			f := k.setup(t, "")
			tok := f.token("key-a", "secret-a")
			if got := f.sendForm(tok, text("user-a", "hi")).outcome(t); got != okMsg {
				t.Fatalf("fresh token: %+v", got)
			}
			f.admin(http.MethodPost, "/__admin/apps/1001/clock", `{"advance":"719h59m"}`, nil)
			f.admin(http.MethodPost, "/__admin/apps/1001/messages", `{"open_id":"user-a"}`, nil)
			if got := f.sendForm(tok, text("user-a", "hi")).outcome(t); got != okMsg {
				t.Fatalf("token one minute before expiry: %+v", got)
			}
			f.admin(http.MethodPost, "/__admin/apps/1001/clock", `{"advance":"1m"}`, nil)
			if diff := cmp.Diff(errExpired, f.sendForm(tok, text("user-a", "hi")).outcome(t)); diff != "" {
				t.Errorf("after 30 days (-want +got):\n%s", diff)
			}
			// A new token works again.
			if got := f.sendForm(f.token("key-a", "secret-a"), text("user-a", "hi")).outcome(t); got != okMsg {
				t.Errorf("new token: %+v", got)
			}
		})
		t.Run("ErrTokenExpired_ServerClock", func(t *testing.T) {
			t.Parallel()
			f := k.setup(t, "")
			tok := f.token("key-a", "secret-a")
			f.clock.Advance(30 * 24 * time.Hour)
			if diff := cmp.Diff(errExpired, f.sendForm(tok, text("user-a", "hi")).outcome(t)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
		t.Run("ErrTokenInvalid_RefreshTokenAsAccessToken", func(t *testing.T) {
			t.Parallel()
			f := k.setup(t, "")
			res := f.do(httptest.NewRequest(http.MethodGet, smartappmock.TokenPath+"?grant_type=client_credentials&client_id=key-a&client_secret=secret-a", nil))
			var tr smartappmock.TokenResponse
			mustUnmarshal(t, res.Body, &tr)
			if diff := cmp.Diff(errBadToken, f.sendForm(tr.RefreshToken, text("user-a", "hi")).outcome(t)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
		t.Run("TokenOfOtherAppSeesOtherState", func(t *testing.T) {
			t.Parallel()
			f := k.setup(t, "")
			// user-b wrote to app 1002, not to app 1001: app 1001 has no window for it.
			if diff := cmp.Diff(errQuota, f.sendForm("static-token-a", text("user-b", "hi")).outcome(t)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	})
}

func TestGatewayLimits(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		t.Run("ErrQPSLimit_ThirdInOneSecond", func(t *testing.T) {
			t.Parallel()
			f := k.setup(t, "")
			var got []outcome
			for range 3 {
				got = append(got, f.sendForm("static-token-c", text("user-c", "hi")).outcome(t))
			}
			if diff := cmp.Diff([]outcome{okMsg, okMsg, errQPSLimit}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			f.clock.Advance(time.Second)
			if got := f.sendForm("static-token-c", text("user-c", "hi")).outcome(t); got != okMsg {
				t.Errorf("next second: %+v", got)
			}
		})
		t.Run("ErrDailyLimit_FourthInOneDay_NewDayResets", func(t *testing.T) {
			t.Parallel()
			f := k.setup(t, "")
			var got []outcome
			for range 4 {
				got = append(got, f.sendForm("static-token-c", text("user-c", "hi")).outcome(t))
				f.clock.Advance(time.Second)
			}
			if diff := cmp.Diff([]outcome{okMsg, okMsg, okMsg, errDailyLimit}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			f.clock.Advance(24 * time.Hour)
			f.admin(http.MethodPost, "/__admin/apps/1003/messages", `{"open_id":"user-c"}`, nil)
			if got := f.sendForm("static-token-c", text("user-c", "hi")).outcome(t); got != okMsg {
				t.Errorf("next day: %+v", got)
			}
		})
		t.Run("GatewayBeforeBusiness_LimitCountsInvalidSends", func(t *testing.T) {
			t.Parallel()
			f := k.setup(t, "")
			for range 2 {
				if got := f.sendForm("static-token-c", url.Values{}).outcome(t); got != errInvalid {
					t.Fatalf("invalid send: %+v", got)
				}
			}
			if diff := cmp.Diff(errQPSLimit, f.sendForm("static-token-c", url.Values{}).outcome(t)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	})
}

func TestWindow(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		tests := []struct {
			name  string
			steps func(f *fixture) []outcome
			want  []outcome
		}{
			{
				name: "QuotaExhausted_SixthSendFails",
				steps: func(f *fixture) []outcome {
					var got []outcome
					for range 6 {
						got = append(got, f.sendForm("static-token-a", text("user-a", "hi")).outcome(f.t))
					}
					return got
				},
				want: []outcome{okMsg, okMsg, okMsg, okMsg, okMsg, errQuota},
			},
			{
				name: "QuotaExhausted_NewUserMessageResets",
				steps: func(f *fixture) []outcome {
					for range 5 {
						f.sendForm("static-token-a", text("user-a", "hi"))
					}
					got := []outcome{f.sendForm("static-token-a", text("user-a", "hi")).outcome(f.t)}
					f.admin(http.MethodPost, "/__admin/apps/1001/messages", `{"open_id":"user-a"}`, nil)
					for range 6 {
						got = append(got, f.sendForm("static-token-a", text("user-a", "hi")).outcome(f.t))
					}
					return got
				},
				want: []outcome{errQuota, okMsg, okMsg, okMsg, okMsg, okMsg, errQuota},
			},
			{
				name: "WindowExpired_After48Hours",
				steps: func(f *fixture) []outcome {
					got := []outcome{f.sendForm("static-token-a", text("user-a", "hi")).outcome(f.t)}
					f.admin(http.MethodPost, "/__admin/apps/1001/clock", `{"advance":"47h59m"}`, nil)
					got = append(got, f.sendForm("static-token-a", text("user-a", "hi")).outcome(f.t))
					f.admin(http.MethodPost, "/__admin/apps/1001/clock", `{"advance":"1m"}`, nil)
					got = append(got, f.sendForm("static-token-a", text("user-a", "hi")).outcome(f.t))
					return got
				},
				want: []outcome{okMsg, okMsg, errQuota},
			},
			{
				name: "WindowPerUser_OtherUserUnaffected",
				steps: func(f *fixture) []outcome {
					f.admin(http.MethodPost, "/__admin/apps/1001/messages", `{"open_id":"user-a2"}`, nil)
					for range 5 {
						f.sendForm("static-token-a", text("user-a", "hi"))
					}
					return []outcome{
						f.sendForm("static-token-a", text("user-a", "hi")).outcome(f.t),
						f.sendForm("static-token-a", text("user-a2", "hi")).outcome(f.t),
					}
				},
				want: []outcome{errQuota, okMsg},
			},
			{
				name: "InvalidSendDoesNotUseWindow",
				steps: func(f *fixture) []outcome {
					for range 5 {
						f.sendForm("static-token-a", text("user-a", ""))
					}
					return []outcome{f.sendForm("static-token-a", text("user-a", "hi")).outcome(f.t)}
				},
				want: []outcome{okMsg},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				f := k.setup(t, "")
				if diff := cmp.Diff(tt.want, tt.steps(f)); diff != "" {
					t.Errorf("outcomes mismatch (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestWindowOpenOnFirstSend(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		f := k.setup(t, `
version: 1
policy: {apps: sandbox, tokens: sandbox, window: {mode: open_on_first_send}}
`)
		var got []outcome
		for range 6 {
			got = append(got, f.sendForm("any-token", text("new-user", "hi")).outcome(t))
		}
		f.clock.Advance(48 * time.Hour)
		got = append(got, f.sendForm("any-token", text("new-user", "hi")).outcome(t))
		want := []outcome{okMsg, okMsg, okMsg, okMsg, okMsg, errQuota, okMsg}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestUnknownPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, path, reason string
	}{
		{"ErrUnsupported_UnknownPath", http.MethodPost, "/rest/2.0/smartapp/message/custom/sendall", "not an API"},
		{"ErrUnsupported_Root", http.MethodGet, "/", "not an API"},
		{"ErrUnsupported_GetOnSend", http.MethodGet, smartappmock.SendPath, "method GET is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, "")
			rec := httptest.NewRecorder()
			f.srv.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			res := response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
			if diff := cmp.Diff(errUnsupported, res.outcome(t)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got := res.Header.Get(smartappmock.HeaderReason); !strings.Contains(got, tt.reason) {
				t.Errorf("reason = %q, want %q", got, tt.reason)
			}
		})
	}
}
