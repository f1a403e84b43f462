package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
)

// FuzzUserWrites sends arbitrary bodies and open_ids to "the user writes", with pushes going to
// a bot on loopback: never a panic or a 5xx, always a JSON answer (but for the router's
// redirect of an unclean path), and a 200 always names an outcome.
func FuzzUserWrites(f *testing.F) {
	f.Add("u1", `{"msg_type":"text","content":"hi"}`)
	f.Add("u1", `{"msg_type":"image","pic_url":"https://example.com/a.png"}`)
	f.Add("用户", `{"msg_type":"text","content":"]]></xml>","more":[{"msg_type":"text","content":"b"}],"faults":[{"kind":"out_of_order"},{"kind":"duplicate"}]}`)
	f.Add("u1", `{"msg_type":"text","content":"x","faults":[{"kind":"wrong_signature"}]}`)
	f.Add("", `{"msg_type":"voice"}`)
	f.Add("u1", `[]`)
	cfg := configtest.Parse(f, configtest.Strict)
	srv, err := newSandbox(mockserver.Options{Config: cfg})
	if err != nil {
		f.Fatal(err)
	}
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := r.URL.Query().Get(baidupush.ParamEchoStr); e != "" {
			_, _ = w.Write([]byte(e))
			return
		}
		_, _ = w.Write([]byte("success"))
	}))
	f.Cleanup(bot.Close)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/__admin/apps/1001/push", strings.NewReader(pushBody(bot.URL, "secure", "xml", `,"timeout":"1s","retries":0`))))
	if rec.Code != http.StatusOK {
		f.Fatalf("PUT push: %d %s", rec.Code, rec.Body)
	}
	f.Fuzz(func(t *testing.T, openID, body string) {
		if strings.Contains(body, "delay") {
			t.Skip("a delay fault may wait up to a minute, by design (tested in TestUserWrites_PushOutcomes)")
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/__admin/apps/1001/users/"+url.PathEscape(openID)+"/messages", strings.NewReader(body)))
		if rec.Code >= 500 || rec.Code < 200 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if rec.Code/100 == 3 { // the router cleans a path such as /users//messages or /users/../
			return
		}
		var ans struct {
			Outcome string `json:"outcome"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
			t.Fatalf("answer is not JSON: %q", rec.Body)
		}
		if rec.Code == http.StatusOK && ans.Outcome == "" {
			t.Fatalf("200 without an outcome: %s", rec.Body)
		}
	})
}
