package mockservertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver/admin"
)

// PushTo serves the bot handler h on a loopback port (closed when the test ends) and makes it
// the push URL of app: cfg's URL is replaced by the handler's, its token, key, mode and format
// are kept (empty settings take their defaults, Token "test-push-token"). As when the
// configuration is saved in Baidu's console, the fake first runs the verification handshake
// against h: the test fails unless h echoes echoStr. It returns the configuration in force
// (token and key as given), for the handler's own checks.
func (s *Server) PushTo(t testing.TB, app string, h http.Handler, cfg config.Push) config.Push {
	t.Helper()
	bot := httptest.NewServer(h)
	t.Cleanup(bot.Close)
	cfg.URL = bot.URL
	if cfg.Token == "" {
		cfg.Token = "test-push-token"
	}
	a, ok, err := s.Fake.Store().App(context.Background(), app)
	if err != nil || !ok {
		t.Fatalf("mockservertest: PushTo: no app %q (%v)", app, err)
	}
	if _, err := s.Admin.SetPush(context.Background(), a, cfg); err != nil {
		t.Fatalf("mockservertest: PushTo %s: %v", app, err)
	}
	cfg.Config = cfg.Config.WithDefaults(a.ClientID)
	return cfg
}

// UserWrites says "user openID writes text to app": the user's window opens on the app's clock
// and the message is pushed to the handler of PushTo, with its retries; it returns the delivery
// (Delivered, Attempts, Reason). The test fails when the app has no push configuration.
func (s *Server) UserWrites(t testing.TB, app, openID, text string) baidupush.Result {
	t.Helper()
	return s.UserWritesMessage(t, app, openID, admin.UserWrites{PushMessage: admin.PushMessage{MsgType: baidupush.MsgTypeText, Content: text}})[0]
}

// UserWritesMessage is UserWrites with the whole body of the admin call: an image, more
// messages, push faults. It returns one delivery per message.
func (s *Server) UserWritesMessage(t testing.TB, app, openID string, in admin.UserWrites) []baidupush.Result {
	t.Helper()
	ans, _, err := s.Admin.UserWrites(context.Background(), app, openID, in)
	if err != nil {
		t.Fatalf("mockservertest: UserWrites %s/%s: %v", app, openID, err)
	}
	if ans.Outcome == admin.OutcomeNoPush {
		t.Fatalf("mockservertest: UserWrites %s/%s: the app has no push configuration (call PushTo first)", app, openID)
	}
	return ans.Results
}
