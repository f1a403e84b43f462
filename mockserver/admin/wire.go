package admin

import (
	"time"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
)

// The JSON shapes of the admin API, shared by the handlers and Client.

// ErrorBody is the body of every admin error.
type ErrorBody struct {
	Error string `json:"error"`
}

// Health is the answer of GET /__admin/health.
type Health struct {
	Status  string `json:"status"` // "ok", or "degraded" (see Options.Health)
	Version string `json:"version"`
	Uptime  string `json:"uptime"`
	Reason  string `json:"reason,omitempty"` // why it is degraded
}

// AppView is an app as the admin API shows it.
type AppView struct {
	store.App
	Clock         time.Time                `json:"clock"`
	Limits        config.Limits            `json:"limits"`
	Counters      map[string]store.Counter `json:"counters"`
	Windows       []WindowView             `json:"windows"`
	Journal       JournalStats             `json:"journal"`
	WindowPolicy  config.Window            `json:"window_policy"`
	ConfiguredApp bool                     `json:"configured"`
}

// WindowView is a user's window as the admin API shows it.
type WindowView struct {
	store.Window
	ExpiresAt   time.Time `json:"expires_at"`
	Open        bool      `json:"open"`
	RepliesLeft int       `json:"replies_left"`
}

// JournalStats says how many entries an app's journal holds and dropped.
type JournalStats struct {
	Held    int `json:"held"`
	Dropped int `json:"dropped"`
}

// AppList is the answer of GET /__admin/apps.
type AppList struct {
	Apps []AppView `json:"apps"`
	// Next, when set, is the after= of the next page: this page was full.
	Next string `json:"next,omitempty"`
}

// ResetSummary is the answer of POST /__admin/reset: what the reset did.
type ResetSummary struct {
	// Status is "reset".
	Status string `json:"status"`
	// ConfiguredApps is how many configured apps were restored; every other app is gone.
	ConfiguredApps int `json:"configured_apps"`
	// Took is how long the reset took.
	Took string `json:"took"`
}

// UserMessage is the body of POST /__admin/apps/{app}/messages.
type UserMessage struct {
	OpenID string `json:"open_id"`
}

// Capability is the body of PUT /__admin/apps/{app}/capability.
type Capability struct {
	Enabled *bool `json:"enabled"`
}

// Clock is the body of POST /__admin/apps/{app}/clock.
type Clock struct {
	Advance string `json:"advance"`
}

// RuleState is a rule with its use count.
type RuleState struct {
	config.Rule
	Used int `json:"used"`
}

// RuleList is the answer of GET and PUT /__admin/rules.
type RuleList struct {
	Rules []RuleState `json:"rules"`
}

// FaultState is a fault plan with its counts.
type FaultState struct {
	config.Fault
	Label    string `json:"label"`
	Matched  int    `json:"matched"`
	Injected int    `json:"injected"`
}

// FaultList is the answer of the /__admin/faults routes: the top-level plans and each app's.
type FaultList struct {
	Apps   map[string][]FaultState `json:"apps"`
	Faults []FaultState            `json:"faults"`
}

// Requests is the answer of GET /__admin/requests: journal entries, newest first.
type Requests struct {
	Count    int           `json:"count"`
	Requests []store.Entry `json:"requests"`
}

// Status is the answer of POST /__admin/reset.
type Status struct {
	Status string `json:"status"`
}
