package sandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
)

// TestInboxState_IssuedUsersAndLogins: the inbox's user list shows the users the fake issued
// (Baidu account or guest) with their logins, beside open_ids known only from sends.
func TestInboxState_IssuedUsersAndLogins(t *testing.T) {
	t.Parallel()
	f := newInboxFake(t, "")
	ctx := context.Background()
	alice, err := f.srv.Core.CreateUser(ctx, "1001", config.User{OpenID: "alice", Account: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.Core.CreateUser(ctx, "1001", config.User{OpenID: "guest-1", Guest: true}); err != nil {
		t.Fatal(err)
	}
	q := url.Values{"code": {alice.Code}, "client_id": {"key-a"}, "sk": {"secret-a"}}
	res, err := f.http.Client().Get(f.http.URL + smartappmock.JSCode2SessionKeyPath + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	f.send("tok-a", inboxText("user-a", "1"))
	resp, body := f.get(noRedirects(nil), "/__admin/ui/api/state?app=1001", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("state: %d %s", resp.StatusCode, body)
	}
	var st struct {
		Users []struct {
			OpenID  string `json:"open_id"`
			Account string `json:"account"`
			Logins  int    `json:"logins"`
			Sends   int    `json:"sends"`
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	type user struct {
		OpenID, Account string
		Logins, Sends   int
	}
	got := map[string]user{}
	for _, u := range st.Users {
		got[u.OpenID] = user{u.OpenID, u.Account, u.Logins, u.Sends}
	}
	want := map[string]user{
		"alice":   {"alice", "baidu", 1, 0},
		"guest-1": {"guest-1", "guest", 0, 0},
		"user-a":  {"user-a", "", 0, 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
}
