package spec

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Catalogue is the x-smartapp-codes extension of openapi.yaml: every code the API answers, with its
// exact message. The fake reads its messages from here and nowhere else.
type Catalogue struct {
	Gateway  []GatewayCode  `json:"gateway"`
	Business []BusinessCode `json:"business"`
	OAuth    []OAuthCode    `json:"oauth"`
	// Platform is the third-party platform's errno table, answered as business envelopes by its
	// token endpoint.
	Platform []BusinessCode `json:"platform"`
	// Login is the login and UnionID endpoints' own errnos (the v1 login's 10010100, getunionid's
	// 400).
	Login []BusinessCode `json:"login,omitempty"`
	// Template is the errno table of the subscribe and legacy template messages.
	Template []BusinessCode `json:"template,omitempty"`
	// Risk is the errno table of the content checks.
	Risk []BusinessCode `json:"risk,omitempty"`
}

// TemplateMessage returns the msg of a template-message errno and whether the catalogue has it.
func (c Catalogue) TemplateMessage(errno int) (string, bool) { return tableMessage(c.Template, errno) }

// RiskMessage returns the msg of a content-check errno and whether the catalogue has it.
func (c Catalogue) RiskMessage(errno int) (string, bool) { return tableMessage(c.Risk, errno) }

func tableMessage(table []BusinessCode, errno int) (string, bool) {
	for _, b := range table {
		if b.Errno == errno {
			return b.Message, true
		}
	}
	return "", false
}

// LoginMessage returns the message of a login or UnionID errno and whether the catalogue has it.
func (c Catalogue) LoginMessage(errno int) (string, bool) {
	for _, b := range c.Login {
		if b.Errno == errno {
			return b.Message, true
		}
	}
	return "", false
}

// PlatformMessage returns the msg of a third-party platform errno and whether the catalogue has it.
func (c Catalogue) PlatformMessage(errno int) (string, bool) {
	for _, b := range c.Platform {
		if b.Errno == errno {
			return b.Message, true
		}
	}
	return "", false
}

// GatewayCode is one gateway-layer error_code and its error_msg.
type GatewayCode struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	When    string `json:"when,omitempty"`
}

// BusinessCode is one business-layer errno and its msg.
type BusinessCode struct {
	Errno   int    `json:"errno"`
	Message string `json:"message"`
	When    string `json:"when,omitempty"`
}

// OAuthCode is one OAuth error case: an id naming the case, the OAuth error and its description.
type OAuthCode struct {
	ID          string `json:"id"`
	Error       string `json:"error"`
	Description string `json:"description"`
}

// GatewayMessage returns the error_msg of a gateway code and whether the catalogue has it.
func (c Catalogue) GatewayMessage(code int) (string, bool) {
	for _, g := range c.Gateway {
		if g.Code == code {
			return g.Message, true
		}
	}
	return "", false
}

// BusinessMessage returns the msg of a business errno and whether the catalogue has it.
func (c Catalogue) BusinessMessage(errno int) (string, bool) {
	for _, b := range c.Business {
		if b.Errno == errno {
			return b.Message, true
		}
	}
	return "", false
}

// OAuthError returns the OAuth error and description of a case id and whether the catalogue has it.
func (c Catalogue) OAuthError(id string) (OAuthCode, bool) {
	for _, o := range c.OAuth {
		if o.ID == id {
			return o, true
		}
	}
	return OAuthCode{}, false
}

func parseCatalogue(ext any) (Catalogue, error) {
	var c Catalogue
	if ext == nil {
		return c, fmt.Errorf("openapi: %s is missing", codesExt)
	}
	raw, err := json.Marshal(ext)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("openapi: %s: %w", codesExt, err)
	}
	if len(c.Gateway) == 0 || len(c.Business) == 0 || len(c.OAuth) == 0 {
		return c, fmt.Errorf("openapi: %s needs gateway, business and oauth entries", codesExt)
	}
	seen := map[string]bool{}
	for _, g := range c.Gateway {
		k := "gateway " + strconv.Itoa(g.Code)
		if seen[k] || g.Message == "" {
			return c, fmt.Errorf("openapi: %s: %s is duplicated or has no message", codesExt, k)
		}
		seen[k] = true
	}
	for _, b := range c.Business {
		k := "business " + strconv.Itoa(b.Errno)
		if seen[k] || b.Message == "" {
			return c, fmt.Errorf("openapi: %s: %s is duplicated or has no message", codesExt, k)
		}
		seen[k] = true
	}
	for _, b := range c.Platform {
		k := "platform " + strconv.Itoa(b.Errno)
		if seen[k] || b.Message == "" || b.Errno == 0 {
			return c, fmt.Errorf("openapi: %s: %s is duplicated, 0 or has no message", codesExt, k)
		}
		seen[k] = true
	}
	for _, b := range c.Login {
		k := "login " + strconv.Itoa(b.Errno)
		if seen[k] || b.Message == "" || b.Errno == 0 {
			return c, fmt.Errorf("openapi: %s: %s is duplicated, 0 or has no message", codesExt, k)
		}
		seen[k] = true
	}
	for name, table := range map[string][]BusinessCode{"template": c.Template, "risk": c.Risk} {
		for _, b := range table {
			k := name + " " + strconv.Itoa(b.Errno)
			if seen[k] || b.Message == "" || b.Errno == 0 {
				return c, fmt.Errorf("openapi: %s: %s is duplicated, 0 or has no message", codesExt, k)
			}
			seen[k] = true
		}
	}
	for _, o := range c.OAuth {
		k := "oauth " + o.ID
		if seen[k] || o.ID == "" || o.Error == "" || o.Description == "" {
			return c, fmt.Errorf("openapi: %s: %s is duplicated or incomplete", codesExt, k)
		}
		seen[k] = true
	}
	return c, nil
}
