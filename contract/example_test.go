package contract_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/contract"
	"github.com/smartappmock/smartappmock/examples/go/sender"
	"github.com/smartappmock/smartappmock/internal/testenv"
)

// A Go project runs the whole catalogue inside its own go test with Run; each case gets a fresh
// client built from the case's Conn.
func ExampleRun() {
	// In your _test.go file:
	_ = func(t *testing.T) {
		contract.Run(t, func(c contract.Conn) contract.Client {
			s := sender.New(c.BaseURL, c.ClientID, c.ClientSecret)
			return contract.ClientFunc(func(ctx context.Context, m contract.Message) error {
				return s.Send(ctx, sender.Message{UserType: m.UserType, OpenID: m.OpenID, MsgType: m.MsgType, Content: m.Content, PicURL: m.PicURL})
			})
		})
	}
}

// RunClient returns a Report instead of failing a test: here two cases against the example client,
// one where the service answers success and one where it answers errno 3001.
func ExampleSuite_RunClient() {
	newClient := func(c contract.Conn) contract.Client {
		s := sender.New(c.BaseURL, c.ClientID, c.ClientSecret)
		return contract.ClientFunc(func(ctx context.Context, m contract.Message) error {
			return s.Send(ctx, sender.Message{UserType: m.UserType, OpenID: m.OpenID, MsgType: m.MsgType, Content: m.Content, PicURL: m.PicURL})
		})
	}
	s := contract.Suite{Cases: []string{"text_delivered", "errno_3001_fails_without_retry"}}
	rep, err := s.RunClient(context.Background(), "example sender", newClient)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rep.Results {
		fmt.Println(r.Grade, r.Case, r.Status)
	}
	fmt.Println("exit", rep.ExitCode())
	// Output:
	// must text_delivered pass
	// must errno_3001_fails_without_retry pass
	// exit 0
}

// A command in any language is run once per message with the case's inputs in its environment.
// (The shell client needs curl, so this example is compiled but not run here;
// TestRunCommand_ShellExample runs it, and skips without curl.)
func ExampleSuite_RunCommand() {
	s := contract.Suite{Cases: []string{"text_delivered"}}
	rep, err := s.RunCommand(context.Background(), []string{"sh", "../examples/shell/send.sh"})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = rep.WriteJUnit(io.Discard) // or a file, for your CI
	fmt.Println(rep.Results[0].Case, rep.Results[0].Status)
}

// TestRunCommand_ShellExample is ExampleSuite_RunCommand with its output checked: the shell client
// passes text_delivered.
func TestRunCommand_ShellExample(t *testing.T) {
	t.Parallel()
	testenv.RequireVersion(t, "curl", "--version", 7, 87, "apt-get install curl, version 7.87 or later")
	s := contract.Suite{Cases: []string{"text_delivered"}}
	rep, err := s.RunCommand(t.Context(), []string{"sh", "../examples/shell/send.sh"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rep.Results {
		got = append(got, r.Case+" "+string(r.Status))
	}
	if diff := cmp.Diff([]string{"text_delivered pass"}, got); diff != "" {
		t.Errorf("RunCommand results mismatch (-want +got):\n%s", diff)
	}
}
