package mockserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/mockserver/pushtarget"
)

// Where the message push may go: the allow-list of Options.PushAllow (pushtarget), checked before
// the handshake (a clear admin error) and again on every connection the push makes.

// pushAllowSetting names the setting that widens the allow-list, for messages.
const pushAllowSetting = "serve --push-allow, env SMARTAPPMOCK_PUSH_ALLOW"

// adminPathPrefix is the path of a fake's admin API: no bot lives there, and a handshake POSTed
// to another fake's /__admin/reset would reset it.
const adminPathPrefix = "/__admin"

// PushAllow returns the allow-list of push targets in force.
func (s *Server) PushAllow() *pushtarget.Allow { return s.pushAllow }

// checkPushTarget refuses a push URL outside the allow-list, or one on a fake's admin API, as an
// ErrInvalid that names the setting.
func (s *Server) checkPushTarget(ctx context.Context, rawURL string) error {
	if u, err := url.Parse(rawURL); err == nil && (u.Path == adminPathPrefix || strings.HasPrefix(u.Path, adminPathPrefix+"/")) {
		return invalid("push.url: %q is a path of a fake's admin API (%s/…), never a bot's: the handshake would POST to it", rawURL, adminPathPrefix)
	}
	if err := s.pushAllow.Check(ctx, rawURL); err != nil {
		var re *pushtarget.RefusedError
		if errors.As(err, &re) {
			return &Error{Code: ErrInvalid, Message: fmt.Sprintf("push.url: %v; the fake's operator can allow more with %s (docs/push.md, \"Where pushes may go\")", err, pushAllowSetting), Err: err}
		}
		return invalid("push.url: %v", err)
	}
	return nil
}

// pushClient returns an HTTP client for a handshake or a delivery that connects only to allowed
// push targets. Close its idle connections when done.
func (s *Server) pushClient() *http.Client {
	c := baidupush.NewClient()
	if tr, ok := c.Transport.(*http.Transport); ok {
		tr.DialContext = s.pushAllow.DialContext(tr.DialContext)
	}
	return c
}

// checkConfiguredPushTargets refuses, at start, an apps[].push.url of the file whose host is an
// address outside the allow-list (names are resolved when the push connects).
func (s *Server) checkConfiguredPushTargets() error {
	for i, a := range s.cfg.Apps {
		if a.Push == nil {
			continue
		}
		if err := s.pushAllow.CheckAddress(a.Push.URL); err != nil {
			return fmt.Errorf("apps[%d].push.url: %w; allow it with %s", i, err, pushAllowSetting)
		}
	}
	return nil
}
