package configtest_test

import (
	"testing"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/config/configtest"
)

func TestStrict_ParsesAsDocumented(t *testing.T) {
	t.Parallel()
	c := configtest.Parse(t, configtest.Strict)
	if c.Policy.Apps != config.AppsConfigured || c.Policy.Tokens != config.TokensIssued || c.Policy.Window.MaxReplies != 5 {
		t.Errorf("policy = %+v; want configured apps, issued tokens, 5 replies", c.Policy)
	}
	var ids []string
	for _, a := range c.Apps {
		ids = append(ids, a.ID)
	}
	if len(ids) != 3 || ids[0] != "1001" || ids[1] != "1002" || ids[2] != "1003" {
		t.Errorf("apps = %v; want 1001, 1002 and 1003", ids)
	}
	if c.Apps[1].Capability == nil || *c.Apps[1].Capability || c.Apps[2].Limits.Daily != 3 {
		t.Errorf("app 1002 capability %v, app 1003 limits %+v; want false and 3 a day", c.Apps[1].Capability, c.Apps[2].Limits)
	}
}
