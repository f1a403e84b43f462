package config

import (
	"fmt"
	"strings"
)

// ContentChecks are the lists the content checks decide by (riskDetection syncCheckText and
// syncCheckImage, detectrisk): a text, or the bytes of an image (standing in for the text on it),
// that contains a word of a list fails that list's check. A nil list takes the default's.
type ContentChecks struct {
	// RiskWords fail the text check's "risk" type and the image check's "ocr-word" (82512).
	RiskWords []string `yaml:"risk_words,omitempty" json:"risk_words,omitempty"`
	// LeadWords fail the text check's "lead" type and the image check's "ocr-lead" (82512).
	LeadWords []string `yaml:"lead_words,omitempty" json:"lead_words,omitempty"`
	// RiskIPs are client IPs that detectrisk rates level "1" (high risk); any other is "4".
	RiskIPs []string `yaml:"risk_ips,omitempty" json:"risk_ips,omitempty"`
}

// DefaultContentChecks are the lists in force when the configuration names none: a few words
// that real checks flag, so a bot's "check before reply" path fails without any setup.
func DefaultContentChecks() ContentChecks {
	return ContentChecks{
		RiskWords: []string{"赌博", "代开发票", "色情", "smartappmock-risk"},
		LeadWords: []string{"加微信", "免费领取", "smartappmock-lead"},
		RiskIPs:   []string{"203.0.113.66"},
	}
}

// ChecksFor returns the lists of app a: each list the app sets, else the top level's, else the
// default's.
func (c *Config) ChecksFor(a App) ContentChecks {
	out := DefaultContentChecks()
	for _, cc := range []*ContentChecks{c.ContentChecks, a.ContentChecks} {
		if cc == nil {
			continue
		}
		if cc.RiskWords != nil {
			out.RiskWords = cc.RiskWords
		}
		if cc.LeadWords != nil {
			out.LeadWords = cc.LeadWords
		}
		if cc.RiskIPs != nil {
			out.RiskIPs = cc.RiskIPs
		}
	}
	return out
}

// Subscription is a user's consent to a subscribe message, held when the fake starts: one
// message of the template under the subscribe id (template/message/subscribe/send).
type Subscription struct {
	// OpenID is the user's open_id in the app.
	OpenID string `yaml:"open_id" json:"open_id"`
	// TemplateID is the app's template id the user consented to.
	TemplateID string `yaml:"template_id" json:"template_id"`
	// SubscribeID is the subscribe-id of the consent (the <form>'s subscribe-id).
	SubscribeID string `yaml:"subscribe_id" json:"subscribe_id"`
}

// HasTemplate reports whether the app has a template id under the policy: one of its list; or,
// when it lists none and the policy is TemplatesAny, any (the sandbox's leniency, with a warning:
// listed is false).
func (a App) HasTemplate(id string, policy TemplatePolicy) (ok, listed bool) {
	if len(a.Templates) == 0 {
		return policy == TemplatesAny, false
	}
	for _, t := range a.Templates {
		if t == id {
			return true, true
		}
	}
	return false, true
}

// validateMessages checks an app's templates, subscriptions and content checks.
func validateMessages(p string, a App, policy TemplatePolicy, add func(path, format string, args ...any)) {
	for k, t := range a.Templates {
		if strings.TrimSpace(t) == "" {
			add(fmt.Sprintf("%s.templates[%d]", p, k), "must not be empty")
		}
	}
	for k, s := range a.Subscriptions {
		sp := fmt.Sprintf("%s.subscriptions[%d]", p, k)
		if s.OpenID == "" {
			add(sp+".open_id", "required")
		}
		if s.TemplateID == "" {
			add(sp+".template_id", "required")
		} else if ok, _ := a.HasTemplate(s.TemplateID, policy); !ok {
			add(sp+".template_id", "%q is not one of the app's templates (apps[].templates; policy.templates: %s)", s.TemplateID, policy)
		}
		if s.SubscribeID == "" {
			add(sp+".subscribe_id", "required")
		}
	}
	validateChecks(p+".content_checks", a.ContentChecks, add)
}

// validateChecks refuses empty words (an empty word would match every text).
func validateChecks(p string, cc *ContentChecks, add func(path, format string, args ...any)) {
	if cc == nil {
		return
	}
	for name, list := range map[string][]string{"risk_words": cc.RiskWords, "lead_words": cc.LeadWords, "risk_ips": cc.RiskIPs} {
		for k, w := range list {
			if w == "" {
				add(fmt.Sprintf("%s.%s[%d]", p, name, k), "must not be empty (it would match everything)")
			}
		}
	}
}
