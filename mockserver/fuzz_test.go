package mockserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/config/configtest"
)

// FuzzSendRequest drives the whole request path (parameter merge, token gate, validation, window)
// with arbitrary queries, content types and bodies: never a panic, always HTTP 200 with exactly one
// of the two envelopes.
func FuzzSendRequest(f *testing.F) {
	f.Add("access_token=static-token-a", "application/x-www-form-urlencoded", "user_type=1&open_id=user-a&msg_type=text&content=hi")
	f.Add("", "application/x-www-form-urlencoded;charset=UTF-8", "access_token=static-token-a&user_type=2&open_id=u&msg_type=image&pic_url=x")
	f.Add("access_token=error_code_18", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"open_id\"\r\n\r\nerrno_90002\r\n--x--\r\n")
	f.Add("access_token=%zz&&=&a", "application/json", `{"open_id":1}`)
	f.Add("access_token=static-token-a", "text/plain; charset", "\xff\xfe")
	// Large inputs (the hostile loads of docs/operations.md): about 5000 distinct names, over MaxParams; a 100 KB value; a 100 KB name.
	f.Add("access_token=static-token-a", "application/x-www-form-urlencoded", "user_type=1&open_id=user-a&msg_type=text&content=hi&"+string(distinctNamesBody(30000)))
	f.Add("access_token=static-token-a", "application/x-www-form-urlencoded", "user_type=1&open_id=user-a&msg_type=text&content="+strings.Repeat("x", 100<<10))
	f.Add("access_token=static-token-a", "application/x-www-form-urlencoded", strings.Repeat("n", 100<<10)+"=1&user_type=1&open_id=user-a&msg_type=text&content=hi")
	cfg := configtest.Parse(f, configtest.Strict)
	cfg.Policy.Tokens = config.TokensSandbox
	srv, err := New(Options{Config: cfg})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query, contentType, body string) {
		req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath, strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("body is not JSON: %v: %q", err, rec.Body)
		}
		_, biz := m["errno"]
		_, gw := m["error_code"]
		if biz == gw {
			t.Fatalf("want exactly one envelope, got %s", rec.Body)
		}
		if rec.Header().Get(smartappmock.HeaderOutcome) == "" {
			t.Fatal("no outcome header")
		}
	})
}

// distinctNamesBody returns a urlencoded body of about size bytes made of distinct, valueless
// names (k0&k1&k2&…), as params' benchmark does.
func distinctNamesBody(size int) []byte {
	var b strings.Builder
	b.Grow(size + 16)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString("k")
		b.WriteString(strconv.Itoa(i))
	}
	return []byte(b.String())
}
