package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock/baidupush"
)

// DefaultTicketEvery is how often Baidu pushes a platform its ticket: every 10 minutes.
const DefaultTicketEvery = 10 * time.Minute

// MinTicketEvery bounds PlatformPush.TicketEvery from below, so that a typo cannot flood a
// platform's receiver.
const MinTicketEvery = time.Second

// PlatformPush is where the fake pushes a third-party platform's ticket and authorization events
// (platforms[].push): the platform's authorization-event URL (授权事件接收URL), its verification
// token and its message key. The pushes are JSON, encrypted, in the documented envelope.
type PlatformPush struct {
	// URL is the platform's authorization-event URL: http:// or https://.
	URL string `yaml:"url" json:"url"`
	// Token is the platform's verification token (消息验证TOKEN).
	Token string `yaml:"token" json:"token"`
	// EncodingAESKey is the platform's message key (消息加解密Key): 43 of [A-Za-z0-9].
	EncodingAESKey string `yaml:"encoding_aes_key" json:"encoding_aes_key"`
	// TicketEvery is how often the ticket is pushed (default 10m, Baidu's documented schedule).
	TicketEvery Duration `yaml:"ticket_every,omitempty" json:"ticket_every,omitempty"`
	// NoTicketSchedule pushes the ticket on demand only (the admin API, `smartappmock push`).
	NoTicketSchedule bool `yaml:"no_ticket_schedule,omitempty" json:"no_ticket_schedule,omitempty"`
	// TPAppID is the platform's numeric id (tpAppId in the authorization events); 0 derives a
	// stable 8-digit one from the platform key [inf].
	TPAppID int64 `yaml:"tp_app_id,omitempty" json:"tp_app_id,omitempty"`
	// Timeout is each attempt's limit (default 2s) and Retries the retries after the first
	// (default 2): Baidu says only that it retries "several times" [inf].
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	Retries *int     `yaml:"retries,omitempty" json:"retries,omitempty"`
}

// Every returns the ticket schedule's period: TicketEvery, or DefaultTicketEvery; 0 when the
// schedule is off.
func (p PlatformPush) Every() time.Duration {
	switch {
	case p.NoTicketSchedule:
		return 0
	case p.TicketEvery > 0:
		return time.Duration(p.TicketEvery)
	}
	return DefaultTicketEvery
}

// Wire returns the push settings of the platform whose key is key (the trailing id [inf]).
func (p PlatformPush) Wire(key string) baidupush.PlatformConfig {
	return baidupush.PlatformConfig{URL: p.URL, Token: p.Token, EncodingAESKey: p.EncodingAESKey, ClientID: key,
		Timeout: baidupush.Duration(p.Timeout), Retries: p.Retries}
}

// Check reports every problem of p under path ("platforms[0].push").
func (p PlatformPush) Check(path, key string) Errors {
	var errs Errors
	c := baidupush.Config{URL: p.URL, Token: p.Token, EncodingAESKey: p.EncodingAESKey, Mode: baidupush.ModeSecure,
		Timeout: baidupush.Duration(p.Timeout), Retries: p.Retries}.WithDefaults(key)
	if c.ClientID == "" {
		c.ClientID = "-" // the platform key is checked as platforms[].key
	}
	if err := c.Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			field, reason, ok := strings.Cut(line, ": ")
			if !ok {
				field, reason = "", line
			}
			if strings.HasPrefix(reason, "empty; mode secure needs") {
				reason = "required: the platform's 43-character message key (消息加解密Key)"
			}
			errs = append(errs, &Error{Path: strings.TrimSuffix(path+"."+field, "."), Reason: reason})
		}
	}
	if p.TicketEvery < 0 || (p.TicketEvery > 0 && time.Duration(p.TicketEvery) < MinTicketEvery) {
		errs = append(errs, &Error{Path: path + ".ticket_every", Reason: fmt.Sprintf("%s; want at least %s (default %s)", p.TicketEvery, MinTicketEvery, DefaultTicketEvery)})
	}
	if p.TPAppID < 0 {
		errs = append(errs, &Error{Path: path + ".tp_app_id", Reason: "must not be negative"})
	}
	return errs
}

// Redacted returns p with its token and key hidden, as the admin API shows it.
func (p PlatformPush) Redacted() PlatformPush {
	if p.Token != "" {
		p.Token = "<redacted>"
	}
	if p.EncodingAESKey != "" {
		p.EncodingAESKey = "<redacted>"
	}
	return p
}
