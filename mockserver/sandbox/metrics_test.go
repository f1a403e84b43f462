package sandbox

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver/observe"
)

// TestMetrics_CountRequestsByEndpointLayerCode sends a mix of requests and reads /metrics: the
// counters, the latency histogram, the tenants and the journal size agree with what was sent.
func TestMetrics_CountRequestsByEndpointLayerCode(t *testing.T) {
	t.Parallel()
	f := setup(t, "")
	f.sendForm("static-token-a", text("user-a", "one"))
	f.sendForm("static-token-a", text("user-a", "two"))
	f.sendForm("static-token-a", text("", "no open_id"))
	f.sendForm("nope", text("user-a", "bad token"))
	f.token("key-a", "secret-a")
	f.srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/nowhere", nil))

	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, observe.MetricsPath, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(smartappmock_(?:requests_total|tenants|journal_entries|request_duration_seconds_count)(?:\{[^}]*\})?) (\S+)$`).FindAllSubmatch(body, -1) {
		got[string(m[1])] = string(m[2])
	}
	want := map[string]string{
		`smartappmock_requests_total{code="0",endpoint="send",layer="business"}`:    "2",
		`smartappmock_requests_total{code="3001",endpoint="send",layer="business"}`: "1",
		`smartappmock_requests_total{code="110",endpoint="send",layer="gateway"}`:   "1",
		`smartappmock_requests_total{code="200",endpoint="token",layer="oauth"}`:    "1",
		`smartappmock_requests_total{code="3",endpoint="unknown",layer="gateway"}`:  "1",
		`smartappmock_request_duration_seconds_count{endpoint="send"}`:              "4",
		`smartappmock_request_duration_seconds_count{endpoint="token"}`:             "1",
		`smartappmock_request_duration_seconds_count{endpoint="unknown"}`:           "1",
		`smartappmock_journal_entries`:                                              "6",
		`smartappmock_tenants`:                                                      "4", // three apps and the app-less bucket
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("/metrics (-want +got):\n%s\n%s", diff, body)
	}
	if rec.Header().Get(smartappmock.HeaderOutcome) != "" {
		t.Error("/metrics answered as an API path")
	}
}

// TestMetrics_RegistryPerServer builds two servers in one process: each has its own counts.
func TestMetrics_RegistryPerServer(t *testing.T) {
	t.Parallel()
	a, b := setup(t, ""), setup(t, "")
	a.sendForm("static-token-a", text("user-a", "hi"))
	fams, err := b.srv.Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range fams {
		if fam.GetName() == "smartappmock_requests_total" && len(fam.GetMetric()) > 0 {
			t.Errorf("server b counted server a's request: %v", fam)
		}
	}
}

// TestMetrics_FaultedSendCountsUnderFault: a send answered with the fake's HTTP 503 page is counted
// under the fault, never as the success the fake decided behind it.
func TestMetrics_FaultedSendCountsUnderFault(t *testing.T) {
	t.Parallel()
	f := setup(t, configtest.Strict+"faults:\n  - kind: http_503\n    times: 1\n")
	if got := f.statuses(2, "user-a"); got[0] != http.StatusServiceUnavailable || got[1] != http.StatusOK {
		t.Fatalf("statuses %v, want 503 then 200", got)
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, observe.MetricsPath, nil))
	body, _ := io.ReadAll(rec.Body)
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(smartappmock_(?:requests|faults)_total\{[^}]*\}) (\S+)$`).FindAllSubmatch(body, -1) {
		got[string(m[1])] = string(m[2])
	}
	for series, want := range map[string]string{
		`smartappmock_requests_total{code="http_503",endpoint="send",layer="fault"}`: "1",
		`smartappmock_requests_total{code="0",endpoint="send",layer="business"}`:     "1",
	} {
		if got[series] != want {
			t.Errorf("%s = %q, want %q\n%s", series, got[series], want, body)
		}
	}
	var faults int
	for series := range got {
		if regexp.MustCompile(`^smartappmock_faults_total\{kind="http_503",phase="[a-z]*"\}$`).MatchString(series) {
			faults++
		}
	}
	if faults != 1 {
		t.Errorf("faults_total series of http_503: %d, want 1\n%s", faults, body)
	}
}
