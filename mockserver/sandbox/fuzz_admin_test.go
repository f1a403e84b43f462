package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
)

// adminWrites are the admin routes that read a JSON body.
var adminWrites = []struct{ method, path string }{
	{http.MethodPut, "/__admin/rules"},
	{http.MethodPost, "/__admin/apps/1001/messages"},
	{http.MethodPut, "/__admin/apps/1001/capability"},
	{http.MethodPost, "/__admin/apps/1001/clock"},
	{http.MethodPost, "/__admin/apps/1001/reset"},
	{http.MethodPost, "/__admin/reset"},
}

// FuzzAdminJSON sends arbitrary bodies to the admin API's JSON routes: never a panic or a 5xx,
// always a JSON answer (an error says why), and the fake still answers a send afterwards with one
// of the two envelopes.
func FuzzAdminJSON(f *testing.F) {
	f.Add(uint8(0), `{"rules":[{"match":{"open_id":"x"},"answer":{"errno":90001},"times":1}]}`)
	f.Add(uint8(0), `{"rules":[{"answer":{"error_code":18}}]}`)
	f.Add(uint8(0), "rules:\n  - answer: {errno: -1}\n")
	f.Add(uint8(1), `{"open_id":"user-a"}`)
	f.Add(uint8(1), `{"open_id":""}`)
	f.Add(uint8(2), `{"enabled":false}`)
	f.Add(uint8(2), `{"enabled":"yes"}`)
	f.Add(uint8(3), `{"advance":"49h"}`)
	f.Add(uint8(3), `{"advance":"-1h"}`)
	f.Add(uint8(3), `{"advance":"9999999999h"}`)
	f.Add(uint8(4), `{}`)
	f.Add(uint8(5), `{"a":1}{"b":2}`)
	cfg := configtest.Parse(f, configtest.Strict)
	// One server for every input: state left by one call is just more hostile input for the next.
	srv, err := newSandbox(mockserver.Options{Config: cfg})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		rt := adminWrites[int(route)%len(adminWrites)]
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(rt.method, rt.path, strings.NewReader(body)))
		if rec.Code >= 500 || rec.Code < 200 {
			t.Fatalf("%s %s: status %d: %s", rt.method, rt.path, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: answer is not JSON: %q", rt.method, rt.path, rec.Body)
		}
		if rec.Code >= 400 {
			var e struct{ Error string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%s %s: error answer without a reason: %s", rt.method, rt.path, rec.Body)
			}
		}
		req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=static-token-a", strings.NewReader(text("user-a", "hi").Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec = httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var m map[string]json.RawMessage
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &m) != nil {
			t.Fatalf("send after the admin call: %d %s", rec.Code, rec.Body)
		}
		if _, biz := m["errno"]; biz == (m["error_code"] != nil) {
			t.Fatalf("send after the admin call: not exactly one envelope: %s", rec.Body)
		}
	})
}
