package observe_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/observe"
	"github.com/smartappmock/smartappmock/store"
)

func TestLeniency_OncePerAppAndKind_ThenCounted(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := observe.NewLeniency(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if s := l.Summary(); s != "" {
		t.Errorf("Summary() with nothing seen = %q, want empty", s)
	}
	ok := func(app string, kinds ...mockserver.WarningKind) *store.Entry {
		e := &store.Entry{App: app, Endpoint: "send", Layer: smartappmock.LayerBusiness, Code: 0}
		for _, k := range kinds {
			e.Warnings = append(e.Warnings, k.Warning())
		}
		return e
	}
	l.Observe(ok("a", mockserver.WarnUnissuedToken, mockserver.WarnOpenOnFirstSend))
	l.Observe(ok("a", mockserver.WarnUnissuedToken))
	l.Observe(ok("b", mockserver.WarnUnissuedToken))
	l.Observe(ok("b"))
	forced := ok("b", mockserver.WarnMagicValue)
	forced.Code = 90001
	l.Observe(forced)

	if diff := cmp.Diff(map[string]int{"a unissued_token": 2, "a open_on_first_send": 1, "b unissued_token": 1, "b magic_value": 1}, l.Counts()); diff != "" {
		t.Errorf("Counts() mismatch (-want +got):\n%s", diff)
	}
	if n := strings.Count(buf.String(), "level=WARN"); n != 4 {
		t.Errorf("%d WARN lines, want 4 (one per app and kind):\n%s", n, buf.String())
	}
	want := "3 answers succeeded only because the sandbox is lenient; warnings by kind: magic_value 1 (app b), " +
		"open_on_first_send 1 (app a), unissued_token 3 (app a, b); --profile baidu makes them fail as Baidu would (docs/fidelity.md)"
	if diff := cmp.Diff(want, l.Summary()); diff != "" {
		t.Errorf("Summary() mismatch (-want +got):\n%s", diff)
	}

	only := observe.NewLeniency(slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))
	only.Observe(forced)
	if got := only.Summary(); got != "no answer succeeded only because the sandbox is lenient; warnings by kind: magic_value 1 (app b); --profile baidu makes them fail as Baidu would (docs/fidelity.md)" {
		t.Errorf("Summary() of a forced answer only = %q", got)
	}
}

func TestLeniency_ManyApps_Bounded(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := observe.NewLeniency(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	const apps = 5000 // more than a Leniency tells apart
	for i := range apps {
		l.Observe(&store.Entry{App: fmt.Sprintf("token-%d", i), Endpoint: "send", Layer: smartappmock.LayerBusiness,
			Warnings: []store.Warning{mockserver.WarnUnissuedToken.Warning()}})
	}
	counts := l.Counts()
	if len(counts) > 4097 {
		t.Errorf("%d (app, kind) counts kept for %d apps, want them bounded", len(counts), apps)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != apps {
		t.Errorf("counts add up to %d, want every one of the %d warned answers", total, apps)
	}
	if n := strings.Count(buf.String(), "level=WARN"); n >= apps {
		t.Errorf("%d WARN lines for %d apps, want the apps past the bound counted without a line", n, apps)
	}
	if s := l.Summary(); !strings.Contains(s, "5000 answers succeeded") {
		t.Errorf("Summary() = %q, want all 5000 answers in it", s)
	}
}
