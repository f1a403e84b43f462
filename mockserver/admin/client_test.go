package admin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/store"
)

func intp(v int) *int { return &v }

// TestClient_RoundTrips drives the typed client against a real admin API: what it puts, it reads
// back; an error answer is an *admin.Error with its status.
func TestClient_RoundTrips(t *testing.T) {
	core, err := mockserver.New(mockserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	api := admin.New(core, admin.Options{Token: "tk"})
	hs := httptest.NewServer(api.Wrap(core))
	defer hs.Close()
	ctx := context.Background()
	c := &admin.Client{BaseURL: hs.URL, Token: "tk"}

	if h, err := c.Health(ctx); err != nil || h.Status != "ok" {
		t.Fatalf("Health = %+v, %v", h, err)
	}
	if err := c.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	rules := []config.Rule{{Name: "r", Match: config.Match{OpenID: "u"}, Answer: config.Answer{Errno: intp(90002)}, Times: 1}}
	if _, err := c.PutRules(ctx, rules); err != nil {
		t.Fatal(err)
	}
	got, err := c.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]admin.RuleState{{Rule: rules[0]}}, got.Rules); diff != "" {
		t.Errorf("Rules() mismatch (-want +got):\n%s", diff)
	}
	faults := []config.Fault{{Kind: config.FaultHTTP503, Times: 1}}
	fl, err := c.PutFaults(ctx, faults)
	if err != nil || len(fl.Faults) != 1 || fl.Faults[0].Label != "faults[0]" {
		t.Errorf("PutFaults = %+v, %v", fl, err)
	}
	if _, err := c.App(ctx, "missing"); !admin.IsStatus(err, http.StatusNotFound) {
		t.Errorf("App(missing): %v, want an HTTP 404 *admin.Error", err)
	}
	if es, err := c.Requests(ctx, store.Query{Limit: 5}); err != nil || len(es) != 0 {
		t.Errorf("Requests = %d entries, %v", len(es), err)
	}
	// A sandbox app (made by a token request) can be deleted; a configured one cannot.
	tr, err := http.Get(hs.URL + "/oauth/2.0/token?grant_type=client_credentials&client_id=sbx-del&client_secret=s")
	if err != nil {
		t.Fatal(err)
	}
	tr.Body.Close()
	if err := c.DeleteApp(ctx, "sbx-del"); err != nil {
		t.Errorf("DeleteApp(sandbox app): %v", err)
	}
	if _, err := c.App(ctx, "sbx-del"); !admin.IsStatus(err, http.StatusNotFound) {
		t.Errorf("the deleted app: %v, want 404", err)
	}
	if err := c.DeleteApp(ctx, "10001"); !admin.IsStatus(err, http.StatusConflict) {
		t.Errorf("DeleteApp(configured app): %v, want 409", err)
	}
	bad := &admin.Client{BaseURL: hs.URL}
	_, err = bad.Rules(ctx)
	if !admin.IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("without the token: %v, want HTTP 401", err)
	}
	if want := "--admin-token"; !strings.Contains(err.Error(), want) {
		t.Errorf("401 error %q does not suggest %s", err, want)
	}
}
