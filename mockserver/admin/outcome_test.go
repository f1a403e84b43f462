package admin_test

import (
	"slices"
	"testing"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/internal/spec"
	"github.com/smartappmock/smartappmock/mockserver/admin"
)

func TestParseOutcome(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "ok", "error", "3001", "110", "business 90001", "gateway 110", "invalid_client", "oauth invalid_grant"} {
		if err := admin.ParseOutcome(s); err != nil {
			t.Errorf("ParseOutcome(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range []string{"fail", "failed", "success", "oauth fail", "business x", "gateway"} {
		if err := admin.ParseOutcome(s); err == nil {
			t.Errorf("ParseOutcome(%q) = nil, want an error", s)
		}
	}
}

// TestOAuthErrors_MatchTheSpec: the outcome filter knows every OAuth error openapi.yaml lists.
func TestOAuthErrors_MatchTheSpec(t *testing.T) {
	t.Parallel()
	sp, err := spec.Load(smartappmock.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sp.Catalogue().OAuth {
		if !slices.Contains(admin.OAuthErrors, c.Error) {
			t.Errorf("admin.OAuthErrors lacks %q (openapi.yaml, case %s)", c.Error, c.ID)
		}
	}
}
