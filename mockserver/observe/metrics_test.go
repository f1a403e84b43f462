package observe

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
)

// TestObserve_FaultsAndWarnings: a faulted send counts under its fault, not the code the fake
// decided; faults count by kind and phase, warnings by kind; a latency alone is no fault.
func TestObserve_FaultsAndWarnings(t *testing.T) {
	t.Parallel()
	biz := smartappmock.LayerBusiness
	sandboxToken := store.Warning{Kind: "unissued_token", Message: "access_token: not issued by this fake; Baidu answers 110"}
	opened := store.Warning{Kind: "open_on_first_send", Message: "window: opened"}
	m := NewMetrics(memstore.New(10))
	for _, e := range []store.Entry{
		{Endpoint: "send", Layer: biz, Code: 0, Fault: "http_503 (faults[0])", FaultKind: "http_503", FaultPhase: "before"},
		{Endpoint: "send", Layer: biz, Code: 0, Fault: "http_503 (faults[0])", FaultKind: "http_503", FaultPhase: "before"},
		{Endpoint: "send", Layer: biz, Code: 0, Fault: "latency 1s + truncated (slow)", FaultKind: "truncated", FaultPhase: "after"},
		{Endpoint: "send", Layer: biz, Code: 0, Fault: "latency 200ms (faults[2])"},
		{Endpoint: "send", Layer: biz, Code: 0, Warnings: []store.Warning{sandboxToken, opened}},
		{Endpoint: "send", Layer: biz, Code: 90001, Warnings: []store.Warning{sandboxToken}},
	} {
		m.Observe(&e)
	}
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, MetricsPath, nil))
	body, _ := io.ReadAll(rec.Body)
	got := map[string]string{}
	for _, l := range regexp.MustCompile(`(?m)^(smartappmock_(?:requests|faults|warnings)_total\{[^}]*\}) (\S+)$`).FindAllSubmatch(body, -1) {
		got[string(l[1])] = string(l[2])
	}
	want := map[string]string{
		`smartappmock_requests_total{code="http_503",endpoint="send",layer="fault"}`:  "2",
		`smartappmock_requests_total{code="truncated",endpoint="send",layer="fault"}`: "1",
		`smartappmock_requests_total{code="0",endpoint="send",layer="business"}`:      "2",
		`smartappmock_requests_total{code="90001",endpoint="send",layer="business"}`:  "1",
		`smartappmock_faults_total{kind="http_503",phase="before"}`:                   "2",
		`smartappmock_faults_total{kind="truncated",phase="after"}`:                   "1",
		`smartappmock_warnings_total{kind="open_on_first_send"}`:                      "1",
		`smartappmock_warnings_total{kind="unissued_token"}`:                          "2",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("/metrics (-want +got):\n%s", diff)
	}
}
