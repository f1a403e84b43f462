package mockserver_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock"
)

// jsonPost is a POST of a JSON body with the token in the query, as Baidu's Go SDK (Content-Type
// application/json, {"content":…,"type":[…]|null}) and PHP SDK (application/json;, json_encode:
// Chinese as \u escapes, an unset type as []) send the text check.
func jsonPost(path, token, contentType, body string) *http.Request {
	q := url.Values{"access_token": {token}, "sp_sdk_ver": {"0.1.2"}, "sp_sdk_lang": {"Go"}}
	r := httptest.NewRequest(http.MethodPost, path+"?"+q.Encode(), strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	return r
}

// results returns "type errno" of each data.res[] of a check's answer.
func results(a answer) string {
	data, _ := a.body["data"].(map[string]any)
	res, _ := data["res"].([]any)
	var out []string
	for _, r := range res {
		m := r.(map[string]any)
		out = append(out, m["type"].(string)+" "+jsonInt(m["errno"]))
	}
	return strings.Join(out, ", ")
}

func jsonInt(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.Itoa(int(f))
	}
	return "?"
}

// configFor is msgConfig, with magic values on for a case named *Magic*.
func configFor(name string) string {
	if strings.Contains(name, "Magic") {
		return strings.Replace(msgConfig, "profile: baidu", "profile: sandbox\n  magic_values: true", 1)
	}
	return msgConfig
}

// TestCheckText_Outcomes: the text check with the Go SDK's and PHP SDK's shapes, passing and
// failing by the word lists, and refusing bad bodies with 40001.
func TestCheckText_Outcomes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, token, ct, body string
		want                  int
		res                   string
	}{
		{"Pass_GoTypes", "tok-3001", "application/json", `{"content":"您好，有什么可以帮您？","type":["risk","lead"]}`, 0, "risk 0, lead 0"},
		{"Pass_GoTypeNull", "tok-3001", "application/json", `{"content":"您好","type":null}`, 0, "risk 0"},
		{"Pass_PHP", "tok-3001", "application/json;", `{"content":"\u60a8\u597d","type":["lead"]}`, 0, "lead 0"},
		{"Pass_PHPTypeUnset", "tok-3001", "application/json;", `{"content":"\u60a8\u597d","type":[]}`, 0, "risk 0"},
		{"ErrRisk_PHPEscapedWord", "tok-3001", "application/json;", `{"content":"\u6765\u8d4c\u535a\u5427","type":["risk"]}`, 82512, "risk 82512"},
		{"ErrRisk_DefaultWord", "tok-3001", "application/json", `{"content":"来赌博吧","type":["risk","lead"]}`, 82512, "risk 82512, lead 0"},
		{"ErrRisk_LeadWord", "tok-3001", "application/json;", `{"content":"加微信领红包","type":["risk","lead"]}`, 82512, "risk 0, lead 82512"},
		{"ErrRisk_AppsOwnList", "tok-3002", "application/json", `{"content":"a forbidden word","type":["risk"]}`, 82512, "risk 82512"},
		{"Pass_AppsListReplacesDefault", "tok-3002", "application/json", `{"content":"来赌博吧","type":["risk"]}`, 0, "risk 0"},
		{"ErrRisk_Magic", "tok-3001", "application/json", `{"content":"errno_82593","type":["risk","lead"]}`, 82593, "risk 82593, lead 82593"},
		{"Pass_ErrnoTextUnderBaiduProfile", "tok-3001", "application/json", `{"content":"errno_82593","type":["risk"]}`, 0, "risk 0"},
		{"ErrParam_JavaSDKsConent", "tok-3001", "application/json", `{"conent":"hi","type":["risk"]}`, 40001, ""},
		{"ErrParam_NotJSON", "tok-3001", "application/x-www-form-urlencoded", `content=hi`, 40001, ""},
		{"ErrParam_UnknownType", "tok-3001", "application/json", `{"content":"hi","type":["porn"]}`, 40001, ""},
		{"ErrParam_TooLong", "tok-3001", "application/json", `{"content":"` + strings.Repeat("a", 10241) + `"}`, 40001, ""},
		{"ErrParam_TooManyBytes", "tok-3001", "application/json", `{"content":"` + strings.Repeat("好", 3500) + `"}`, 40001, ""},
		{"ErrToken_NotIssued", "error_code_111", "application/json", `{"content":"hi"}`, 110, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newMsgFixture(t, configFor(c.name), nil)
			a := f.do(jsonPost(smartappmock.CheckTextPath, c.token, c.ct, c.body))
			if a.errno() != c.want {
				t.Fatalf("%s (reason %q), want errno %d", a.raw, a.reason, c.want)
			}
			if got := results(a); got != c.res {
				t.Errorf("results %q, want %q (%s)", got, c.res, a.raw)
			}
		})
	}
}

// TestCheckImage_Outcomes: the image check with the Go SDK's shape (filename "image",
// application/octet-stream, then type), PHP's (a custom boundary, type first, Expect:
// 100-continue) and SKIT's (image.jpg, image/jpeg, the /rest/ path).
func TestCheckImage_Outcomes(t *testing.T) {
	t.Parallel()
	png := "\x89PNG\r\n\x1a\n" + "\x00\x00\x00\rIHDR rest of a picture"
	jpeg := "\xff\xd8\xff\xe0 a photo"
	goShape := func(img, types string) (string, []byte) {
		return multipartImage("", [4]string{"image", "image", "application/octet-stream", img}, [4]string{"type", "", "", types})
	}
	phpShape := func(img, types string) (string, []byte) {
		// curl_custom_postfields: the text parts, then the file part named by its basename, a
		// boundary of 21 dashes and an md5, CRLF between every line, a final CRLF.
		const boundary = "---------------------0cc175b9c0f1b6a831c399e269772661"
		body := strings.Join([]string{
			"--" + boundary, `Content-Disposition: form-data; name="type"`, "", types,
			"--" + boundary, `Content-Disposition: form-data; name="image"; filename="photo.png"`, "Content-Type: application/octet-stream", "", img,
			"--" + boundary + "--", "",
		}, "\r\n")
		return "multipart/form-data; boundary=" + boundary, []byte(body)
	}
	skitShape := func(img, types string) (string, []byte) {
		return multipartImage("", [4]string{"image", "image.jpg", "image/jpeg", img}, [4]string{"type", "", "", types})
	}
	cases := []struct {
		name  string
		path  string
		shape func(img, types string) (string, []byte)
		img   string
		types string
		want  int
		res   string
	}{
		{"Pass_Go", smartappmock.CheckImagePath, goShape, png, "porn,ocr-word,ocr-lead", 0, "porn 0, ocr-word 0, ocr-lead 0"},
		{"Pass_PHP", smartappmock.CheckImagePath, phpShape, jpeg, "porn", 0, "porn 0"},
		{"Pass_SKITRestPath", smartappmock.CheckImageRestPath, skitShape, jpeg, "porn,ocr-lead", 0, "porn 0, ocr-lead 0"},
		{"Pass_DefaultType", smartappmock.CheckImagePath, goShape, png, "", 0, "porn 0"},
		{"ErrRisk_Porn", smartappmock.CheckImagePath, goShape, png + "smartappmock-porn", "porn,ocr-word", 82512, "porn 82512, ocr-word 0"},
		{"ErrRisk_WordOnImage", smartappmock.CheckImagePath, phpShape, png + "代开发票", "porn,ocr-word", 82512, "porn 0, ocr-word 82512"},
		{"ErrRisk_Magic", smartappmock.CheckImageRestPath, skitShape, jpeg + "errno_82593", "porn,ocr-word,ocr-lead", 82593, "porn 82593, ocr-word 82593, ocr-lead 82593"},
		{"ErrParam_NotAnImage", smartappmock.CheckImagePath, goShape, "GIF89a", "porn", 40001, ""},
		{"ErrParam_UnknownType", smartappmock.CheckImagePath, goShape, png, "nudity", 40001, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newMsgFixture(t, configFor(c.name), nil)
			ct, body := c.shape(c.img, c.types)
			r := httptest.NewRequest(http.MethodPost, c.path+"?access_token=tok-3001&sp_sdk_lang=php&sp_sdk_ver=0.1.5", strings.NewReader(string(body)))
			r.Header.Set("Content-Type", ct)
			r.Header.Set("Expect", "100-continue")
			a := f.do(r)
			if a.errno() != c.want {
				t.Fatalf("%s (reason %q), want errno %d", a.raw, a.reason, c.want)
			}
			if got := results(a); got != c.res {
				t.Errorf("results %q, want %q", got, c.res)
			}
		})
	}
}

// TestDetectRisk_Outcomes: the Go SDK's form (all 8 fields, empty ones included) and PHP's (the
// optional ones left out).
func TestDetectRisk_Outcomes(t *testing.T) {
	t.Parallel()
	fields := func(appkey, xtoken, ip string) [][2]string {
		return [][2]string{{"appkey", appkey}, {"xtoken", xtoken}, {"type", "marketing"}, {"clientip", ip}, {"ts", "1764576000"},
			{"ev", ""}, {"useragent", ""}, {"phone", ""}}
	}
	xt := `{"key":"k1","value":"v1"}`
	cases := []struct {
		name   string
		fields [][2]string
		want   int
		level  string
	}{
		{"Clean", fields("key-3001", xt, "198.51.100.7"), 0, "4"},
		{"HighRisk_ListedIP", fields("key-3001", xt, "203.0.113.66"), 0, "1"},
		{"Magic_Level2", fields("key-3001", `{"key":"k","value":"level_2"}`, "198.51.100.7"), 0, "2"},
		{"ErrParam_OtherAppKey", fields("key-3002", xt, "198.51.100.7"), 40001, ""},
		{"ErrParam_XTokenNotJSON", fields("key-3001", "abc", "198.51.100.7"), 40001, ""},
		{"ErrParam_NoClientIP", fields("key-3001", xt, ""), 40001, ""},
	}
	for shape, build := range map[string]func(string, string, [][2]string) *http.Request{"go": goForm, "php": phpForm} {
		for _, c := range cases {
			t.Run(shape+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				f := newMsgFixture(t, configFor(c.name), nil)
				a := f.do(build(smartappmock.DetectRiskPath, "tok-3001", c.fields))
				if a.errno() != c.want {
					t.Fatalf("%s (reason %q), want errno %d", a.raw, a.reason, c.want)
				}
				data, _ := a.body["data"].(map[string]any)
				if level, _ := data["level"].(string); level != c.level {
					t.Errorf("level %q, want %q (%s)", level, c.level, a.raw)
				}
				if c.want == 0 && (a.body["errmsg"] != "succ" || a.body["msg"] != "succ") {
					t.Errorf("errmsg/msg: %s", a.raw)
				}
			})
		}
	}
}
