package sandbox

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
)

// TestPush_ReplicasShareConfigAndMsgIDs: two replicas on one store (in memory, and on Redis via
// miniredis) see the push configuration set through either, and never give two messages the same
// MsgId.
func TestPush_ReplicasShareConfigAndMsgIDs(t *testing.T) {
	t.Parallel()
	for _, tc := range sharedStores() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := tc.newStore(t)
			var clients []*admin.Client
			for range 2 {
				c := configtest.Parse(t, configtest.Strict)
				srv, err := newSandbox(mockserver.Options{Config: c, Store: st})
				if err != nil {
					t.Fatal(err)
				}
				hs := httptest.NewServer(srv)
				t.Cleanup(hs.Close)
				clients = append(clients, &admin.Client{BaseURL: hs.URL, HTTP: hs.Client()})
			}
			ctx := context.Background()
			bot := newTestBot(t, baidupush.Config{Token: botToken, Format: baidupush.FormatJSON})
			if _, err := clients[0].PutPush(ctx, "1001", config.Push{Config: baidupush.Config{URL: bot.URL, Token: botToken, Format: baidupush.FormatJSON}}); err != nil {
				t.Fatalf("PutPush on replica 0: %v", err)
			}
			view, err := clients[1].Push(ctx, "1001")
			if err != nil || view.Source != admin.PushFromAdmin {
				t.Fatalf("Push on replica 1 = %+v, %v; want the configuration set on replica 0", view, err)
			}
			var ids []int64
			for i := range 4 {
				ans, err := clients[i%2].UserWrites(ctx, "1001", "u1", admin.UserWrites{PushMessage: admin.PushMessage{MsgType: baidupush.MsgTypeText, Content: "hi"}})
				if err != nil || ans.Outcome != "delivered" {
					t.Fatalf("UserWrites on replica %d = %+v, %v", i%2, ans, err)
				}
				ids = append(ids, ans.Results[0].MsgID)
			}
			want := []int64{mockserver.MsgIDBase + 1, mockserver.MsgIDBase + 2, mockserver.MsgIDBase + 3, mockserver.MsgIDBase + 4}
			if diff := cmp.Diff(want, ids); diff != "" {
				t.Errorf("MsgIds across replicas mismatch (-want +got):\n%s", diff)
			}
			// A refused handshake is an *admin.Error with status 422.
			bot.mu.Lock()
			bot.echo = func(string) string { return "nope" }
			bot.mu.Unlock()
			_, err = clients[1].PutPush(ctx, "1001", config.Push{Config: baidupush.Config{URL: bot.URL, Token: botToken}})
			var ae *admin.Error
			if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity {
				t.Errorf("PutPush to a bot that does not echo = %v; want HTTP 422", err)
			}
		})
	}
}
