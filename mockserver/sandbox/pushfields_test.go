package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/store"
)

func TestPushFields_Outcomes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, mode, format, body string
		wantStatus               int
		wantFields               string // part of the pushed JSON; for errors part of the error
		wantWindow               bool
		wantMsgID                bool // the body carries a MsgId
	}{
		{"Event_SecureXML_NoMsgIdNoWindow", "secure", "xml",
			`{"open_id":"u1","fields":{"MsgType":"event","Event":"user_enter_tempsession","SessionFrom":"card"}}`,
			http.StatusOK, `"MsgType":"event","Event":"user_enter_tempsession","SessionFrom":"card"}`, false, false},
		{"TextWithOverrides_PlainJSON_OpensWindow", "plain", "json",
			`{"open_id":"u1","fields":{"MsgType":"text","Content":"hi","FromUserName":"u7","CreateTime":1482048670}}`,
			http.StatusOK, `"FromUserName":"u7","CreateTime":1482048670,"MsgType":"text","Content":"hi","MsgId":1000000000000001}`, true, true},
		{"MsgIdOverriddenAbove2^53", "compatible", "json",
			`{"open_id":"u1","fields":{"MsgType":"text","Content":"big","MsgId":9007199254740993}}`,
			http.StatusOK, `"MsgId":9007199254740993`, true, true},
		{"NoMsgType_BadRequest", "plain", "json", `{"open_id":"u1","fields":{"Content":"x"}}`,
			http.StatusBadRequest, "MsgType is required", false, false},
		{"FloatValue_BadRequest", "plain", "json", `{"open_id":"u1","fields":{"MsgType":"text","CreateTime":1.5}}`,
			http.StatusBadRequest, "fields.CreateTime: 1.5; want a string or an integer", false, false},
		{"BadFieldName_BadRequest", "plain", "json", `{"open_id":"u1","fields":{"MsgType":"event","Bad Name":"x"}}`,
			http.StatusBadRequest, `name "Bad Name"`, false, false},
		{"NoOpenID_BadRequest", "plain", "json", `{"fields":{"MsgType":"event"}}`,
			http.StatusBadRequest, "open_id: required", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, "")
			bot := newTestBot(t, baidupush.Config{Token: botToken, EncodingAESKey: botKey, Mode: baidupush.Mode(tc.mode), Format: baidupush.Format(tc.format), ClientID: "key-a"})
			if s := f.admin(http.MethodPut, "/__admin/apps/1001/push", pushBody(bot.URL, tc.mode, tc.format, ""), nil); s != http.StatusOK {
				t.Fatalf("PUT push = %d", s)
			}
			var raw json.RawMessage
			s := f.admin(http.MethodPost, "/__admin/apps/1001/push/fields", tc.body, &raw)
			if s != tc.wantStatus {
				t.Fatalf("POST push/fields = %d %s; want %d", s, raw, tc.wantStatus)
			}
			if tc.wantStatus != http.StatusOK {
				var eb admin.ErrorBody
				if err := json.Unmarshal(raw, &eb); err != nil || !strings.Contains(eb.Error, tc.wantFields) {
					t.Errorf("error %s does not contain %q", raw, tc.wantFields)
				}
				return
			}
			var ans admin.PushedFields
			if err := json.Unmarshal(raw, &ans); err != nil {
				t.Fatal(err)
			}
			if ans.Outcome != "delivered" || len(ans.Result.Attempts) != 1 || !ans.Result.Attempts[0].Acked {
				t.Errorf("outcome %q (%s) attempts %+v; want delivered at once", ans.Outcome, ans.Summary, ans.Result.Attempts)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, ans.Fields); err != nil {
				t.Fatal(err)
			}
			ans.Fields = compact.Bytes()
			if !strings.Contains(string(ans.Fields), tc.wantFields) {
				t.Errorf("pushed fields %s do not contain %s", ans.Fields, tc.wantFields)
			}
			if got := strings.Contains(string(ans.Fields), `"MsgId"`); got != tc.wantMsgID {
				t.Errorf("MsgId in %s: %v; want %v", ans.Fields, got, tc.wantMsgID)
			}
			if ans.WindowOpened != tc.wantWindow {
				t.Errorf("window_opened %v; want %v", ans.WindowOpened, tc.wantWindow)
			}
			if es := f.journal(store.Query{App: "1001", Endpoint: store.EndpointPush}); len(es) != 1 || es[0].Code != 0 {
				t.Errorf("journaled attempts %+v; want one acknowledged", es)
			}
			es := f.journal(store.Query{App: "1001", Endpoint: store.EndpointUserMessage})
			if (len(es) == 1) != tc.wantWindow {
				t.Errorf("%d user_message entries; want one only for a user's message", len(es))
			}
		})
	}
}
