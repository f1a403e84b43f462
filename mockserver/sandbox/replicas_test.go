package sandbox

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store/memstore"
)

// TestReplicasShareOneStore runs two servers from one file on one Store, as replicas behind a load
// balancer would: the window and a rule's "times" are counted once across both, and a reset on
// either restarts them.
func TestReplicasShareOneStore(t *testing.T) {
	t.Parallel()
	cfg := configtest.Strict + `
rules:
  - name: twice
    match: {open_id: user-a}
    answer: {errno: 90002}
    times: 2
`
	store := memstore.New(100)
	var replicas []*testSandbox
	for range 2 {
		c, err := config.Parse("replica.yaml", []byte(cfg))
		if err != nil {
			t.Fatal(err)
		}
		srv, err := newSandbox(mockserver.Options{Config: c, Store: store})
		if err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, srv)
	}
	send := func(i int) string {
		req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=static-token-a", strings.NewReader(text("user-a", "hi").Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		replicas[i%2].ServeHTTP(rec, req)
		return rec.Header().Get(smartappmock.HeaderOutcome)
	}
	var got []string
	for i := range 8 {
		got = append(got, send(i))
	}
	want := []string{"business 90002", "business 90002", "business 0", "business 0", "business 0", "business 0", "business 0", "business 90001"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes across replicas (-want +got):\n%s", diff)
	}
	rec := httptest.NewRecorder()
	replicas[1].ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/__admin/reset", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("reset: %d %s", rec.Code, rec.Body)
	}
	if got := send(0); got != "business 90002" {
		t.Errorf("after a reset on the other replica: %s, want the rule to answer again", got)
	}
}
