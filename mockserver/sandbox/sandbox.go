// Package sandbox composes the fake that the command and mockservertest serve: the API core, the
// admin API and the inbox, in one http.Handler. Metrics and the journal file (package observe) and
// the proxy (package proxy) wrap it where they are wanted.
package sandbox

import (
	"net/http"

	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/mockserver/inbox"
)

// Sandbox is a ready fake: its API core, its admin API (with the inbox) and the handler that
// serves both.
type Sandbox struct {
	// Core is the API core.
	Core *mockserver.Server
	// Admin is the admin API.
	Admin   *admin.API
	handler http.Handler
}

// New builds the API core from core and the admin API (with the inbox) from adm.
func New(core mockserver.Options, adm admin.Options) (*Sandbox, error) {
	c, err := mockserver.New(core)
	if err != nil {
		return nil, err
	}
	adm.UI = inbox.New
	a := admin.New(c, adm)
	return &Sandbox{Core: c, Admin: a, handler: a.Wrap(c)}, nil
}

// ServeHTTP serves the admin API under /__admin/ and the API paths of openapi.yaml.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }
