package webhook_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"

	"go.uber.org/goleak"

	"github.com/smartappmock/smartappmock/contract/webhook"
)

// botArg, as the first argument of this test binary, makes it serve the goBot of these tests
// instead of running them: the bot command of TestRunCommand_StartsTheBotAndStopsIt.
const botArg = "webhook-test-bot"

// TestMain fails the run if a fake, a bot server, a bot process waiter or a push connection
// outlives the tests. Started with botArg, it is a bot command.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == botArg {
		os.Exit(serveBot(os.Getenv))
	}
	goleak.VerifyTestMain(m)
}

// serveBot serves a goBot configured from the kit's environment on 127.0.0.1 at
// SMARTAPPMOCK_BOT_PORT, until the kit stops the process.
func serveBot(getenv func(string) string) int {
	port, err := strconv.Atoi(getenv("SMARTAPPMOCK_BOT_PORT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "SMARTAPPMOCK_BOT_PORT:", err)
		return 2
	}
	e := webhook.Env{Port: port, Token: getenv("SMARTAPPMOCK_PUSH_TOKEN"), AESKey: getenv("SMARTAPPMOCK_PUSH_AES_KEY"),
		ClientID: getenv("SMARTAPPMOCK_PUSH_CLIENT_ID"), BaseURL: getenv("SMARTAPPMOCK_BASE_URL"), AccessToken: getenv("SMARTAPPMOCK_ACCESS_TOKEN")}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("test bot listening on", ln.Addr())
	err = http.Serve(ln, &goBot{env: e, seen: map[int64]bool{}})
	fmt.Fprintln(os.Stderr, err)
	return 1
}
