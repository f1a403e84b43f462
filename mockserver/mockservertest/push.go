package mockservertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver"
)

// PushTo serves the bot handler h on a loopback port (closed when the test ends) and makes it
// the push URL of app: cfg's URL is replaced by the handler's, its token, key, mode and format
// are kept (empty settings take their defaults, Token "test-push-token"). As when the
// configuration is saved in Baidu's console, the fake first runs the verification handshake
// against h: the test fails unless h echoes echoStr. It returns the configuration in force
// (token and key as given, defaults filled in), for the handler's own checks.
func (s *Server) PushTo(t testing.TB, app string, h http.Handler, cfg config.Push) config.Push {
	t.Helper()
	bot := httptest.NewServer(h)
	t.Cleanup(bot.Close)
	cfg.URL = bot.URL
	if cfg.Token == "" {
		cfg.Token = "test-push-token"
	}
	inForce, err := s.Fake.SetPush(context.Background(), app, cfg)
	if err != nil {
		t.Fatalf("mockservertest: PushTo %s: %v", app, err)
	}
	return inForce
}

// UserWrites says "user openID writes text to app": the user's window opens on the app's clock
// and the message is pushed to the handler of PushTo, with its retries; it returns the delivery
// (Delivered, Attempts, Reason). The test fails when the app has no push configuration.
func (s *Server) UserWrites(t testing.TB, app, openID, text string) baidupush.Result {
	t.Helper()
	return s.UserWritesMessage(t, mockserver.UserWrite{App: app, OpenID: openID,
		Messages: []mockserver.UserMessage{{MsgType: baidupush.MsgTypeText, Content: text}}})[0]
}

// UserWritesMessage is UserWrites with the whole input of the core's action (Fake.UserWrites):
// images, several messages, push faults. It returns one delivery per message.
func (s *Server) UserWritesMessage(t testing.TB, in mockserver.UserWrite) []baidupush.Result {
	t.Helper()
	out, err := s.Fake.UserWrites(context.Background(), in)
	if err != nil {
		t.Fatalf("mockservertest: UserWrites %s/%s: %v", in.App, in.OpenID, err)
	}
	if out.Outcome == mockserver.OutcomeNoPush {
		t.Fatalf("mockservertest: UserWrites %s/%s: the app has no push configuration (call PushTo first)", in.App, in.OpenID)
	}
	return out.Results
}
