package sender_test

import (
	"context"
	"testing"

	"github.com/smartappmock/smartappmock/contract"
	"github.com/smartappmock/smartappmock/examples/go/sender"
)

// TestContract runs the whole contract suite against this client: this is all a Go project needs.
func TestContract(t *testing.T) {
	contract.Run(t, func(c contract.Conn) contract.Client {
		s := sender.New(c.BaseURL, c.ClientID, c.ClientSecret)
		return contract.ClientFunc(func(ctx context.Context, m contract.Message) error {
			return s.Send(ctx, sender.Message{UserType: m.UserType, OpenID: m.OpenID, MsgType: m.MsgType, Content: m.Content, PicURL: m.PicURL})
		})
	})
}
