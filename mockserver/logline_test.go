package mockserver

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver/requestlog"
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
		{"Faulted_OutcomeIsTheFault", store.Entry{Endpoint: "send", Layer: smartappmock.LayerBusiness, Fault: "http_503 (faults[0])", FaultKind: "http_503", FaultPhase: "before"},
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

// TestLogRequest_RequestlogHandlerAsTextHandler: a Server logging to a requestlog.Handler writes
// the lines a TextHandler would (the time aside), other records and derived handlers go through
// the TextHandler, and ReplaceAttr or AddSource turn the fast path off.
func TestLogRequest_RequestlogHandlerAsTextHandler(t *testing.T) {
	t.Parallel()
	dropTime := func(line string) string {
		_, rest, _ := strings.Cut(line, " ")
		return rest
	}
	e := &store.Entry{ID: "0a1b2c3d-2", Endpoint: "send", Layer: smartappmock.LayerBusiness, Code: 3001,
		Reason: `user_type: must be one of 1, 2; got "3"`, LatencyMicros: -3}
	t.Run("RequestLine", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		s := &Server{log: slog.New(requestlog.NewHandler(&buf, nil))}
		s.logRequest(context.Background(), e)
		if diff := cmp.Diff(dropTime(textHandlerLine(t, e)), dropTime(buf.String())); diff != "" {
			t.Errorf("line mismatch (-TextHandler +requestlog.Handler):\n%s", diff)
		}
	})
	t.Run("OtherRecords", func(t *testing.T) {
		t.Parallel()
		var got, want bytes.Buffer
		opts := &slog.HandlerOptions{Level: slog.LevelDebug}
		for _, lg := range []*slog.Logger{slog.New(requestlog.NewHandler(&got, opts)), slog.New(slog.NewTextHandler(&want, opts))} {
			lg.Debug("hello", "k", "v w")
			lg.With("a", 1).WithGroup("g").Warn("x", "n", 2)
		}
		if diff := cmp.Diff(dropTimes(want.String()), dropTimes(got.String())); diff != "" {
			t.Errorf("mismatch (-TextHandler +requestlog.Handler):\n%s", diff)
		}
	})
	t.Run("LevelOff", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		s := &Server{log: slog.New(requestlog.NewHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))}
		s.logRequest(context.Background(), e)
		if buf.Len() != 0 {
			t.Errorf("logged %q at level warn", buf.String())
		}
	})
	t.Run("ReplaceAttr_NoFastPath", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		opts := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}
		s := &Server{log: slog.New(requestlog.NewHandler(&buf, opts))}
		s.logRequest(context.Background(), e)
		if diff := cmp.Diff(dropTime(textHandlerLine(t, e)), buf.String()); diff != "" {
			t.Errorf("line mismatch (-TextHandler without time +requestlog.Handler):\n%s", diff)
		}
	})
}

// dropTimes removes the time= attribute of every line.
func dropTimes(s string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if _, rest, ok := strings.Cut(l, " "); ok && strings.HasPrefix(l, "time=") {
			lines[i] = rest
		}
	}
	return strings.Join(lines, "")
}

// textHandlerLine is what slog's TextHandler writes for the request record of e, now.
func textHandlerLine(t testing.TB, e *store.Entry) string {
	t.Helper()
	var buf bytes.Buffer
	if err := slog.NewTextHandler(&buf, nil).Handle(context.Background(), requestlog.Record(time.Now(), e)); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}
