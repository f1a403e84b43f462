package sandbox

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/store"
)

// loginConfig: two apps of one entity (1001, 1002), a third of its own (1003), a platform that
// 1001 granted; only issued open_ids are accepted.
const loginConfig = `
version: 1
policy:
  apps: configured
  tokens: issued
  window: {mode: require_user_message}
  magic_values: true
  open_ids: issued
platforms:
  - {key: tp-key, secret: tp-secret, ticket: tp-ticket}
apps:
  - {id: "1001", client_id: key-a, client_secret: secret-a, tokens: [static-token-a], entity: acme, platforms: [tp-key]}
  - {id: "1002", client_id: key-b, client_secret: secret-b, tokens: [static-token-b], entity: acme}
  - id: "1003"
    client_id: key-c
    client_secret: secret-c
    tokens: [static-token-c]
    users: [{open_id: configured-user, account: carol, nickname: Carol}]
`

// sdkRequest builds a request the way Baidu's Go SDK (sp_sdk_lang=Go) or PHP SDK (sp_sdk_lang=php)
// sends it: the method, the query with the SDK's own parameters, the Content-Type (none: Go on
// GET; "application/x-www-form-urlencoded;" PHP, even on GET) and the body.
func sdkRequest(sdk, method, path string, query url.Values, contentType, body string) *http.Request {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	if sdk == "go" {
		q.Set("sp_sdk_lang", "Go")
		q.Set("sp_sdk_ver", "0.1.2")
	} else {
		q.Set("sp_sdk_lang", "php")
		q.Set("sp_sdk_ver", "0.1.5")
	}
	req := httptest.NewRequest(method, path+"?"+q.Encode(), strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// createUser creates a user of app through the admin API.
func (f *fixture) createUser(app, body string) mockserver.Login {
	f.t.Helper()
	var l mockserver.Login
	if status := f.admin(http.MethodPost, admin.Prefix+"/apps/"+app+"/users", body, &l); status != http.StatusOK {
		f.t.Fatalf("create user of %s: HTTP %d", app, status)
	}
	return l
}

// newCode asks the admin API for a fresh login code of a user.
func (f *fixture) newCode(app, openID string) mockserver.Login {
	f.t.Helper()
	var l mockserver.Login
	if status := f.admin(http.MethodPost, admin.Prefix+"/apps/"+app+"/users/"+openID+"/code", "", &l); status != http.StatusOK {
		f.t.Fatalf("code of %s/%s: HTTP %d", app, openID, status)
	}
	return l
}

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return m
}

// TestLogin_EndToEnd: a user created through the admin API logs in with v1 (Go SDK's GET) and v2
// (Go SDK's POST with an empty form, then the PHP SDK's), gets a reply inside the window and 90001
// once 48 hours passed.
func TestLogin_EndToEnd(t *testing.T) {
	t.Parallel()
	f := setup(t, loginConfig)
	l := f.createUser("1001", `{"account":"alice","nickname":"Alice","sex":2,"mobile":"15000000000"}`)
	if l.User.OpenID == "" || l.User.UnionID == "" || len(l.Code) != 34 || !strings.HasSuffix(l.Code, "NW") {
		t.Fatalf("created %+v", l)
	}

	// v1, as Baidu's Go SDK sends it: GET, everything in the query, no Content-Type.
	res := f.do(sdkRequest("go", http.MethodGet, smartappmock.JSCode2SessionKeyPath,
		url.Values{"code": {l.Code}, "client_id": {"key-a"}, "sk": {"secret-a"}}, "", ""))
	got := decodeJSON(t, res.Body)
	if got["openid"] != l.User.OpenID || got["session_key"] != l.SessionKey || got["errno"] != nil {
		t.Fatalf("v1 login: %s, want openid %s and session_key %s and no errno", res.Body, l.User.OpenID, l.SessionKey)
	}
	// The code works once: the second exchange is the documented spapi error.
	res = f.do(sdkRequest("php", http.MethodGet, smartappmock.JSCode2SessionKeyPath,
		url.Values{"code": {l.Code}, "client_id": {"key-a"}, "sk": {"secret-a"}}, "application/x-www-form-urlencoded;", ""))
	if got := decodeJSON(t, res.Body); got["errno"] != float64(10010100) || got["error"] != "parameter is invalid" {
		t.Fatalf("reused code: %s, want errno 10010100", res.Body)
	}

	// v2, as the Go SDK sends it: POST, access_token and code in the query, an empty form body.
	token := f.token("key-a", "secret-a")
	l2 := f.newCode("1001", l.User.OpenID)
	res = f.do(sdkRequest("go", http.MethodPost, smartappmock.SessionKeyPath,
		url.Values{"access_token": {token}, "code": {l2.Code}}, "application/x-www-form-urlencoded", ""))
	got = decodeJSON(t, res.Body)
	data, _ := got["data"].(map[string]any)
	if got["errno"] != float64(0) || data["open_id"] != l.User.OpenID || data["session_key"] != l2.SessionKey {
		t.Fatalf("v2 login: %s", res.Body)
	}
	// The PHP SDK's: the same, with its Content-Type (a trailing ';').
	l3 := f.newCode("1001", l.User.OpenID)
	res = f.do(sdkRequest("php", http.MethodPost, smartappmock.SessionKeyPath,
		url.Values{"access_token": {token}, "code": {l3.Code}}, "application/x-www-form-urlencoded;", ""))
	if got := decodeJSON(t, res.Body); got["errno"] != float64(0) {
		t.Fatalf("v2 login (PHP): %s", res.Body)
	}

	// The user writes; a reply inside the window is delivered.
	if status := f.admin(http.MethodPost, admin.Prefix+"/apps/1001/messages", `{"open_id":"`+l.User.OpenID+`"}`, nil); status != http.StatusOK {
		t.Fatalf("user message: HTTP %d", status)
	}
	if o := f.sendForm(token, text(l.User.OpenID, "hello")).outcome(t); o.Code != 0 {
		t.Fatalf("reply inside the window: %+v", o)
	}
	// 49 hours later the window is closed: 90001.
	if status := f.admin(http.MethodPost, admin.Prefix+"/apps/1001/clock", `{"advance":"49h"}`, nil); status != http.StatusOK {
		t.Fatalf("clock: HTTP %d", status)
	}
	if o := f.sendForm(token, text(l.User.OpenID, "too late")).outcome(t); o.Code != smartappmock.ErrnoQuotaExceeded {
		t.Fatalf("reply outside the window: %+v, want 90001", o)
	}
}

// TestLogin_Errors: the documented error envelopes of each login, from the SDKs' request shapes.
func TestLogin_Errors(t *testing.T) {
	t.Parallel()
	f := setup(t, loginConfig)
	l := f.createUser("1001", `{}`)
	token := f.token("key-a", "secret-a")
	tests := []struct {
		name      string
		req       *http.Request
		wantField string
		want      any
	}{
		{"V1_MissingSK_10010100", sdkRequest("go", http.MethodGet, smartappmock.JSCode2SessionKeyPath, url.Values{"code": {l.Code}, "client_id": {"key-a"}}, "", ""), "errno", float64(10010100)},
		{"V1_WrongSK_10010100", sdkRequest("go", http.MethodGet, smartappmock.JSCode2SessionKeyPath, url.Values{"code": {l.Code}, "client_id": {"key-a"}, "sk": {"nope"}}, "", ""), "errno", float64(10010100)},
		{"V1_UnknownCode_10010100", sdkRequest("go", http.MethodGet, smartappmock.JSCode2SessionKeyPath, url.Values{"code": {"0123456789abcdef0123456789abcdefNW"}, "client_id": {"key-a"}, "sk": {"secret-a"}}, "", ""), "errno", float64(10010100)},
		{"V1_FormPost_MagicErrno", httptestForm(smartappmock.JSCode2SessionKeyPath, url.Values{"code": {"errno_10010100"}, "client_id": {"key-a"}, "sk": {"secret-a"}}), "errno", float64(10010100)},
		{"V2_NoToken_Gateway100", sdkRequest("go", http.MethodPost, smartappmock.SessionKeyPath, url.Values{"code": {l.Code}}, "application/x-www-form-urlencoded", ""), "error_code", float64(100)},
		{"V2_MagicToken_Gateway111", sdkRequest("go", http.MethodPost, smartappmock.SessionKeyPath, url.Values{"access_token": {"error_code_111"}, "code": {l.Code}}, "application/x-www-form-urlencoded", ""), "error_code", float64(111)},
		{"V2_MissingCode_40001", sdkRequest("php", http.MethodPost, smartappmock.SessionKeyPath, url.Values{"access_token": {token}}, "application/x-www-form-urlencoded;", ""), "errno", float64(40001)},
		{"V2_AnotherAppsCode_40001", sdkRequest("go", http.MethodGet, smartappmock.SessionKeyPath, url.Values{"access_token": {"static-token-b"}, "code": {l.Code}}, "", ""), "errno", float64(40001)},
		{"UnionID_MissingOpenID_400", sdkRequest("go", http.MethodPost, smartappmock.UnionIDPath, url.Values{"access_token": {token}}, "application/x-www-form-urlencoded", ""), "errno", float64(400)},
		{"UnionID_NotAUser_400", sdkRequest("go", http.MethodPost, smartappmock.UnionIDPath, url.Values{"access_token": {token}}, "application/x-www-form-urlencoded", "openid=someone-else"), "errno", float64(400)},
	}
	for _, tt := range tests {
		res := f.do(tt.req)
		if got := decodeJSON(t, res.Body)[tt.wantField]; got != tt.want {
			t.Errorf("%s: %s = %v, want %v (%s; reason %q)", tt.name, tt.wantField, got, tt.want, res.Body, res.Header.Get(smartappmock.HeaderReason))
		}
	}
	// The code, exchanged by none of the failures above, still works once; ten minutes later a
	// fresh one has expired.
	res := f.do(sdkRequest("go", http.MethodGet, smartappmock.JSCode2SessionKeyPath, url.Values{"code": {l.Code}, "client_id": {"key-a"}, "sk": {"secret-a"}}, "", ""))
	if decodeJSON(t, res.Body)["openid"] != l.User.OpenID {
		t.Fatalf("code after failed attempts: %s", res.Body)
	}
	l2 := f.newCode("1001", l.User.OpenID)
	f.clock.Advance(10 * time.Minute)
	res = f.do(sdkRequest("go", http.MethodGet, smartappmock.JSCode2SessionKeyPath, url.Values{"code": {l2.Code}, "client_id": {"key-a"}, "sk": {"secret-a"}}, "", ""))
	if got := decodeJSON(t, res.Body); got["errno"] != float64(10010100) || !strings.Contains(res.Header.Get(smartappmock.HeaderReason), "expired") {
		t.Fatalf("expired code: %s (reason %q)", res.Body, res.Header.Get(smartappmock.HeaderReason))
	}
}

func httptestForm(path string, form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// TestUnionID_SameAcrossEntity: one Baidu account in two apps of one entity has one UnionID
// (getunionid, Go SDK shape: POST, token in the query, form openid); in an app of another entity
// another; a guest has none.
func TestUnionID_SameAcrossEntity(t *testing.T) {
	t.Parallel()
	f := setup(t, loginConfig)
	a := f.createUser("1001", `{"account":"bob"}`)
	b := f.createUser("1002", `{"account":"bob"}`)
	c := f.createUser("1003", `{"account":"bob"}`)
	if a.User.OpenID == b.User.OpenID {
		t.Errorf("open_ids of two apps are equal: %s", a.User.OpenID)
	}
	unionID := func(token, openID string) (string, map[string]any) {
		res := f.do(sdkRequest("go", http.MethodPost, smartappmock.UnionIDPath, url.Values{"access_token": {token}}, "application/x-www-form-urlencoded", "openid="+url.QueryEscape(openID)))
		m := decodeJSON(t, res.Body)
		data, _ := m["data"].(map[string]any)
		s, _ := data["unionid"].(string)
		return s, m
	}
	ua, _ := unionID("static-token-a", a.User.OpenID)
	ub, _ := unionID("static-token-b", b.User.OpenID)
	uc, _ := unionID("static-token-c", c.User.OpenID)
	if ua == "" || ua != ub || ua != a.User.UnionID {
		t.Errorf("unionid in 1001 %q, in 1002 %q, created %q: want one", ua, ub, a.User.UnionID)
	}
	if uc == "" || uc == ua {
		t.Errorf("unionid in 1003 (another entity) %q, want one of its own (1001: %q)", uc, ua)
	}
	g := f.createUser("1001", `{"guest":true}`)
	if _, m := unionID("static-token-a", g.User.OpenID); m["errno"] != float64(400) {
		t.Errorf("guest's unionid: %v, want errno 400", m)
	}
	// A configured user answers too.
	if u, _ := unionID("static-token-c", "configured-user"); u == "" {
		t.Errorf("configured user has no unionid")
	}
}

// TestPlatform_LoginLookups: the platform's calls in the Go and PHP SDKs' shapes: RetrieveAuthCode
// (POST, form app_id), the authorizer token, getsessionkeybycode (GET; PHP's Content-Type starts
// with a TAB), unionId/get (GET) and app/info (GET, no Content-Type).
func TestPlatform_LoginLookups(t *testing.T) {
	t.Parallel()
	f := setup(t, loginConfig)
	res := f.do(sdkRequest("go", http.MethodGet, smartappmock.TPTokenPath, url.Values{"client_id": {"tp-key"}, "ticket": {"tp-ticket"}}, "", ""))
	tpToken := decodeJSON(t, res.Body)["data"].(map[string]any)["access_token"].(string)

	// RetrieveAuthCode: app 1001 granted the platform; app 1002 did not (50032).
	res = f.do(sdkRequest("go", http.MethodPost, smartappmock.RetrieveAuthCodePath, url.Values{"access_token": {tpToken}}, "application/x-www-form-urlencoded", "app_id=1001"))
	m := decodeJSON(t, res.Body)
	data, _ := m["data"].(map[string]any)
	code, _ := data["authorization_code"].(string)
	if m["errno"] != float64(0) || code == "" || data["expires_in"] != float64(18000) {
		t.Fatalf("RetrieveAuthCode: %s", res.Body)
	}
	res = f.do(sdkRequest("php", http.MethodPost, smartappmock.RetrieveAuthCodePath, url.Values{"access_token": {tpToken}}, "application/x-www-form-urlencoded;", "app_id=1002"))
	if m := decodeJSON(t, res.Body); m["errno"] != float64(50032) || m["msg"] != "没有授权关系，请检查" {
		t.Fatalf("RetrieveAuthCode without authorization: %s", res.Body)
	}
	// The retrieved code gives the authorizer token.
	res = f.do(sdkRequest("go", http.MethodGet, smartappmock.TPOAuthPath, url.Values{"access_token": {tpToken}, "grant_type": {smartappmock.GrantAppToTPCode}, "code": {code}}, "", ""))
	var at smartappmock.AuthorizerTokenResponse
	if err := json.Unmarshal(res.Body, &at); err != nil || at.AccessToken == "" {
		t.Fatalf("authorizer token: %s", res.Body)
	}

	l := f.createUser("1001", `{"account":"dave"}`)
	// getsessionkeybycode, as PHP sends it.
	res = f.do(sdkRequest("php", http.MethodGet, smartappmock.TPSessionKeyPath, url.Values{"access_token": {at.AccessToken}, "code": {l.Code}, "grant_type": {"authorization_code"}}, "\tapplication/x-www-form-urlencoded", ""))
	if m := decodeJSON(t, res.Body); m["openid"] != l.User.OpenID || m["session_key"] != l.SessionKey || m["errno"] != nil {
		t.Fatalf("platform login: %s", res.Body)
	}
	// Used: an OAuth error, HTTP 400.
	res = f.do(sdkRequest("go", http.MethodGet, smartappmock.TPSessionKeyPath, url.Values{"access_token": {at.AccessToken}, "code": {l.Code}, "grant_type": {"authorization_code"}}, "", ""))
	if m := decodeJSON(t, res.Body); res.Status != http.StatusBadRequest || m["error"] != "invalid_grant" {
		t.Fatalf("platform login, code used: %d %s", res.Status, res.Body)
	}
	// The app's own token is not the platform's (110).
	res = f.do(sdkRequest("go", http.MethodGet, smartappmock.TPSessionKeyPath, url.Values{"access_token": {"static-token-a"}, "code": {"x"}, "grant_type": {"authorization_code"}}, "", ""))
	if m := decodeJSON(t, res.Body); m["error_code"] != float64(110) {
		t.Fatalf("platform login with the app's token: %s", res.Body)
	}

	// unionId/get (GET) and its POST form.
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		res = f.do(sdkRequest("go", method, smartappmock.TPUnionIDPath, url.Values{"access_token": {at.AccessToken}, "open_id": {l.User.OpenID}}, "", ""))
		m := decodeJSON(t, res.Body)
		data, _ := m["data"].(map[string]any)
		if m["errno"] != float64(0) || data["union_id"] != l.User.UnionID || m["msg"] != "success" {
			t.Fatalf("%s unionId/get: %s", method, res.Body)
		}
	}
	// app/info: qualification's status under both spellings.
	res = f.do(sdkRequest("php", http.MethodGet, smartappmock.AppInfoPath, url.Values{"access_token": {at.AccessToken}}, "", ""))
	m = decodeJSON(t, res.Body)
	data, _ = m["data"].(map[string]any)
	q, _ := data["qualification"].(map[string]any)
	if m["errno"] != float64(0) || data["app_id"] != float64(1001) || data["app_key"] != "key-a" || q["satus"] != float64(1) || q["status"] != float64(1) {
		t.Fatalf("app/info: %s", res.Body)
	}
	// Decoded with the field types Baidu's Go SDK declares (GetAppInfoResponse): a type it does not
	// expect would fail its json.Unmarshal, and with it the call.
	var typed struct {
		Data struct {
			AnnualReviewInfo struct {
				AnnualReviewOverdueTime int64 `json:"annual_review_overdue_time"`
				AnnualReviewStatus      int64 `json:"annual_review_status"`
			} `json:"annual_review_info"`
			AppID          int64  `json:"app_id"`
			AppKey         string `json:"app_key"`
			AppOfflineInfo []struct {
				IllegalFields string `json:"illegal_fields"`
				OfflineReason int64  `json:"offline_reason"`
			} `json:"app_offline_info"`
			AuthInfo []struct {
				ScopeName string `json:"scope_name"`
				Type      int64  `json:"type"`
			} `json:"auth_info"`
			MinSwanVersion string           `json:"min_swan_version"`
			ModifyCount    map[string]int64 `json:"modify_count"`
			PhotoAddr      string           `json:"photo_addr"`
			Qualification  struct {
				AdStatus int64  `json:"ad_status"`
				AdType   int64  `json:"ad_type"`
				Name     string `json:"name"`
				Satus    int64  `json:"satus"`
				Type     int64  `json:"type"`
			} `json:"qualification"`
			Status    int64 `json:"status"`
			WebStatus int64 `json:"web_status"`
		} `json:"data"`
		Errno int64  `json:"errno"`
		Msg   string `json:"msg"`
	}
	if err := json.Unmarshal(res.Body, &typed); err != nil || typed.Data.AppID != 1001 || typed.Data.Qualification.Satus != 1 {
		t.Fatalf("app/info in the Go SDK's types: %v (%+v)", err, typed)
	}
}

// TestOpenIDs_Issued: under policy.open_ids issued a send to another app's user answers 30022
// naming the app; one nobody issued 30022; the app's own user passes the check.
func TestOpenIDs_Issued(t *testing.T) {
	t.Parallel()
	f := setup(t, loginConfig)
	a := f.createUser("1001", `{"account":"erin"}`)
	b := f.createUser("1002", `{"account":"erin"}`)
	res := f.sendForm("static-token-a", text(b.User.OpenID, "hi"))
	if o := res.outcome(t); o.Code != smartappmock.ErrnoInvalidOpenID || !strings.Contains(res.Header.Get(smartappmock.HeaderReason), "belongs to app 1002") {
		t.Errorf("another app's user: %+v, reason %q", o, res.Header.Get(smartappmock.HeaderReason))
	}
	res = f.sendForm("static-token-a", text("nobody", "hi"))
	if o := res.outcome(t); o.Code != smartappmock.ErrnoInvalidOpenID {
		t.Errorf("unissued open_id: %+v", o)
	}
	// The app's own user passes the check and meets the window (no user message yet: 90001).
	if o := f.sendForm("static-token-a", text(a.User.OpenID, "hi")).outcome(t); o.Code != smartappmock.ErrnoQuotaExceeded {
		t.Errorf("own user without a message: %+v, want 90001", o)
	}
}

// decryptUserData is an independent decoder of Baidu's user data, written from Baidu's
// documentation (log_userdata.md) and not from the fake's encoder: AES-192-CBC, padding of 1 to
// 32 bytes removed by hand, 16 random bytes, a 4-byte big-endian length, the JSON, the app key.
func decryptUserData(t *testing.T, data, iv, sessionKey, appKey string) string {
	t.Helper()
	ct, err1 := base64.StdEncoding.DecodeString(data)
	key, err2 := base64.StdEncoding.DecodeString(sessionKey)
	ivb, err3 := base64.StdEncoding.DecodeString(iv)
	if err1 != nil || err2 != nil || err3 != nil || len(key) != 24 || len(ivb) != 16 || len(ct)%16 != 0 {
		t.Fatalf("bad input: %v %v %v key %d iv %d ct %d", err1, err2, err3, len(key), len(ivb), len(ct))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, ivb).CryptBlocks(plain, ct)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > 32 {
		t.Fatalf("padding byte %d", pad)
	}
	plain = plain[:len(plain)-pad]
	n := int(binary.BigEndian.Uint32(plain[16:20]))
	content, trailer := plain[20:20+n], string(plain[20+n:])
	if trailer != appKey {
		t.Fatalf("trailer %q, want the app key %q", trailer, appKey)
	}
	return string(content)
}

// TestUserData_BaiduTestVector decrypts Baidu's published test vector.
func TestUserData_BaiduTestVector(t *testing.T) {
	t.Parallel()
	got := decryptUserData(t,
		"OpCoJgs7RrVgaMNDixIvaCIyV2SFDBNLivgkVqtzq2GC10egsn+PKmQ/+5q+chT8xzldLUog2haTItyIkKyvzvmXonBQLIMeq54axAu9c3KG8IhpFD6+ymHocmx07ZKi7eED3t0KyIxJgRNSDkFk5RV1ZP2mSWa7ZgCXXcAbP0RsiUcvhcJfrSwlpsm0E1YJzKpYy429xrEEGvK+gfL+Cw==",
		"1df09d0a1677dd72b8325Q==", "1df09d0a1677dd72b8325aec59576e0c", "y2dTfnWfkx2OXttMEMWlGHoB1KzMogm7")
	if want := `{"openid":"open_id","nickname":"baidu_user","headimgurl":"url of image","sex":1}`; got != want {
		t.Errorf("decrypted %s, want %s", got, want)
	}
}

// TestUserData_FakeEncrypts: the data a created user comes with decrypts, with the session_key
// its code yields and the app key, to the user's info and phone number.
func TestUserData_FakeEncrypts(t *testing.T) {
	t.Parallel()
	f := setup(t, loginConfig)
	l := f.createUser("1001", `{"account":"frank","nickname":"Frank","headimgurl":"https://example.com/f.png","sex":1,"mobile":"15000000000"}`)
	info := decryptUserData(t, l.UserInfo.Data, l.UserInfo.IV, l.SessionKey, "key-a")
	want := `{"openid":"` + l.User.OpenID + `","nickname":"Frank","headimgurl":"https://example.com/f.png","sex":1}`
	if info != want {
		t.Errorf("user info %s, want %s", info, want)
	}
	if phone := decryptUserData(t, l.PhoneNumber.Data, l.PhoneNumber.IV, l.SessionKey, "key-a"); phone != `{"mobile":"15000000000"}` {
		t.Errorf("phone %s", phone)
	}
	if raw, _ := base64.StdEncoding.DecodeString(l.UserInfo.Data); len(raw)%32 != 0 {
		t.Errorf("ciphertext of %d bytes: Baidu pads to 32", len(raw))
	}
}

// TestAdmin_Users: users are listed in pages, open_ids are unique in an app, an unknown user has no
// code.
func TestAdmin_Users(t *testing.T) {
	t.Parallel()
	f := setup(t, loginConfig)
	for _, n := range []string{"u1", "u2", "u3"} {
		f.createUser("1001", `{"open_id":"`+n+`"}`)
	}
	if status := f.admin(http.MethodPost, admin.Prefix+"/apps/1001/users", `{"open_id":"u2"}`, nil); status != http.StatusConflict {
		t.Errorf("duplicate open_id: HTTP %d, want 409", status)
	}
	var page admin.UserList
	f.admin(http.MethodGet, admin.Prefix+"/apps/1001/users?limit=2", "", &page)
	if len(page.Users) != 2 || page.Next != "u2" {
		t.Fatalf("first page %+v", page)
	}
	next := page.Next
	page = admin.UserList{}
	f.admin(http.MethodGet, admin.Prefix+"/apps/1001/users?after="+next, "", &page)
	if len(page.Users) != 1 || page.Users[0].OpenID != "u3" || page.Next != "" {
		t.Fatalf("second page %+v", page)
	}
	if status := f.admin(http.MethodPost, admin.Prefix+"/apps/1001/users/nobody/code", "", nil); status != http.StatusNotFound {
		t.Errorf("code of an unknown user: HTTP %d, want 404", status)
	}
}

// TestLogin_MagicValues: a code of errno_<N> answers the endpoint's errno, fault_<kind> delivers
// the answer through the fault and journals it, and an access_token of error_code_<N> the gateway
// code; each with the magic-value warning where an answer was forced.
func TestLogin_MagicValues(t *testing.T) {
	t.Parallel()
	f := setup(t, loginConfig)
	// A faulted answer breaks the contract on purpose: served without the fixture's check.
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, sdkRequest("go", http.MethodGet, smartappmock.JSCode2SessionKeyPath, url.Values{"code": {"fault_http_503"}, "client_id": {"key-a"}, "sk": {"secret-a"}}, "", ""))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("fault_http_503: HTTP %d, want 503", rec.Code)
	}
	es := f.journal(store.Query{App: "1001", Endpoint: "login_v1", Limit: 1})
	if len(es) != 1 || es[0].FaultKind != "http_503" || es[0].Status != http.StatusServiceUnavailable {
		t.Errorf("journal of the faulted login: %+v", es)
	}
	res := f.do(sdkRequest("go", http.MethodPost, smartappmock.UnionIDPath, url.Values{"access_token": {"static-token-a"}}, "application/x-www-form-urlencoded", "openid=errno_400"))
	if m := decodeJSON(t, res.Body); m["errno"] != float64(400) || len(res.Header.Values(smartappmock.HeaderWarning)) != 1 {
		t.Errorf("openid errno_400: %s, warnings %q", res.Body, res.Header.Values(smartappmock.HeaderWarning))
	}
}

// TestLogin_CodeOnceUnderRace: of eight concurrent exchanges of one code (v1 and v2 mixed), exactly
// one logs in, on every store; users, codes and the open_id check agree across the stores.
func TestLogin_CodeOnceUnderRace(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, k storeKind) {
		f := k.setup(t, loginConfig)
		l := f.createUser("1001", `{"account":"grace"}`)
		token := f.token("key-a", "secret-a")
		results := make(chan bool, 8)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var req *http.Request
				if i%2 == 0 {
					req = sdkRequest("go", http.MethodGet, smartappmock.JSCode2SessionKeyPath, url.Values{"code": {l.Code}, "client_id": {"key-a"}, "sk": {"secret-a"}}, "", "")
				} else {
					req = sdkRequest("go", http.MethodPost, smartappmock.SessionKeyPath, url.Values{"access_token": {token}, "code": {l.Code}}, "application/x-www-form-urlencoded", "")
				}
				rec := httptest.NewRecorder()
				f.srv.ServeHTTP(rec, req)
				results <- strings.Contains(rec.Body.String(), l.User.OpenID)
			}()
		}
		wg.Wait()
		close(results)
		won := 0
		for ok := range results {
			if ok {
				won++
			}
		}
		if won != 1 {
			t.Errorf("%d exchanges of one code logged in, want exactly 1", won)
		}
		// Another app's user: 30022 naming the app, on this store too.
		b := f.createUser("1002", `{"account":"grace"}`)
		if res := f.sendForm(token, text(b.User.OpenID, "hi")); !strings.Contains(res.Header.Get(smartappmock.HeaderReason), "belongs to app 1002") {
			t.Errorf("another app's user: reason %q", res.Header.Get(smartappmock.HeaderReason))
		}
	})
}

// TestLogin_V2_JavaShape: Baidu's Java SDK POSTs access_token and code in the form body (with its
// own sdk.* parameters); SKIT sends GET with grant_type added. Both log in.
func TestLogin_V2_JavaShape(t *testing.T) {
	t.Parallel()
	f := setup(t, loginConfig)
	token := f.token("key-a", "secret-a")
	l := f.createUser("1001", `{"account":"henry"}`)
	form := url.Values{"access_token": {token}, "code": {l.Code}, "sdk.version": {"1.1.0-SNAPSHOT"}, "sdk.type": {"Java"}}
	req := httptest.NewRequest(http.MethodPost, smartappmock.SessionKeyPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	res := f.do(req)
	if m := decodeJSON(t, res.Body); m["errno"] != float64(0) || m["data"].(map[string]any)["open_id"] != l.User.OpenID {
		t.Fatalf("Java shape: %s", res.Body)
	}
	l2 := f.newCode("1001", l.User.OpenID)
	q := url.Values{"access_token": {token}, "grant_type": {"authorization_code"}, "code": {l2.Code}}
	res = f.do(httptest.NewRequest(http.MethodGet, smartappmock.SessionKeyPath+"?"+q.Encode(), nil))
	if m := decodeJSON(t, res.Body); m["errno"] != float64(0) {
		t.Fatalf("SKIT shape: %s", res.Body)
	}
}
