package mockserver

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/store"
)

// TestLogRequest_FaultAndWarnings: the log line of a faulted send says the fault and its phase,
// not the decided answer as the outcome; the warnings of an answer are listed by kind.
func TestLogRequest_FaultAndWarnings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		e     store.Entry
		want  []string
		avoid []string
	}{
		{"Faulted_OutcomeIsTheFault", store.Entry{Endpoint: "send", Layer: smartappmock.LayerBusiness, Fault: "http_503 (faults[0])", FaultPhase: "before"},
			[]string{`outcome="fault http_503"`, `decided="business 0"`, "fault_phase=before"}, []string{`outcome="business 0"`}},
		{"LatencyOnly_OutcomeIsTheAnswer", store.Entry{Endpoint: "send", Layer: smartappmock.LayerBusiness, Fault: "latency 200ms (faults[0])"},
			[]string{`outcome="business 0"`}, []string{"fault_phase", "decided"}},
		{"Warnings_Listed", store.Entry{Endpoint: "send", Layer: smartappmock.LayerBusiness, Warnings: []store.Warning{WarnUnissuedToken.Warning(), WarnOpenOnFirstSend.Warning()}},
			[]string{"warnings=unissued_token,open_on_first_send"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			s := &Server{log: slog.New(slog.NewTextHandler(&buf, nil))}
			s.logRequest(context.Background(), &tt.e)
			line := buf.String()
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("log line %q lacks %q", line, w)
				}
			}
			for _, a := range tt.avoid {
				if strings.Contains(line, a) {
					t.Errorf("log line %q has %q", line, a)
				}
			}
		})
	}
}
