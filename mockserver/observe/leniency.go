package observe

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// Leniency makes the sandbox's leniency visible where a team looks, not only in a response header
// that no SDK passes on: the first answer of each warning kind for an app logs one WARN line
// (seen at --log-level warn), later ones are counted, and Summary words the counts for the end of
// a run. It is an Observe hook of the API core; its zero value is not ready, use NewLeniency.
type Leniency struct {
	log *slog.Logger

	mu     sync.Mutex
	counts map[leniencyKey]int
	order  []leniencyKey // first seen first
	// succeeded counts the answers that succeeded only because of a lenient kind (a send with
	// errno 0, a token issued).
	succeeded int
}

type leniencyKey struct{ app, kind string }

// maxLeniencyKeys bounds the (app, kind) pairs a Leniency tells apart: every made-up token is a
// sandbox app of its own, so a flood of them must not grow it without end. Past it, a new app's
// warnings are counted under otherApps, without a first line of their own.
const maxLeniencyKeys = 4096

// otherApps is the app of the warnings counted past maxLeniencyKeys.
const otherApps = "(other apps)"

// NewLeniency returns a Leniency that logs to log.
func NewLeniency(log *slog.Logger) *Leniency {
	return &Leniency{log: log, counts: map[leniencyKey]int{}}
}

// Observe counts e's warnings, and logs the first of each kind for e's app. An entry without
// warnings costs a length check.
func (l *Leniency) Observe(e *store.Entry) {
	if len(e.Warnings) == 0 {
		return
	}
	var first []store.Warning
	lenientOK := false
	l.mu.Lock()
	for _, w := range e.Warnings {
		k := leniencyKey{e.App, w.Kind}
		if _, seen := l.counts[k]; !seen && len(l.counts) >= maxLeniencyKeys {
			k.app = otherApps
		}
		if l.counts[k] == 0 {
			l.order = append(l.order, k)
			if k.app != otherApps {
				first = append(first, w)
			}
		}
		l.counts[k]++
		if mockserver.WarningKind(w.Kind).Lenient() {
			lenientOK = true
		}
	}
	if lenientOK && succeeded(e) {
		l.succeeded++
	}
	l.mu.Unlock()
	for _, w := range first {
		setting, byProfile := mockserver.WarningKind(w.Kind).Fix()
		fix := setting
		if byProfile {
			fix += " (or --profile baidu)"
		}
		l.log.Warn("an answer Baidu would not give: "+w.Message, "app", e.App, "kind", w.Kind, "endpoint", e.Endpoint,
			"fix", fix, "note", "logged once per app and kind; the others are counted, the total is logged at shutdown")
	}
}

// succeeded reports whether the entry's answer is a success: errno 0, or a token issued.
func succeeded(e *store.Entry) bool {
	switch e.Layer {
	case smartappmock.LayerBusiness:
		return e.Code == smartappmock.ErrnoOK
	case smartappmock.LayerOAuth:
		return e.Status == 200
	}
	return false
}

// Counts returns, per app and kind ("app kind"), how many answers carried the warning.
func (l *Leniency) Counts() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]int, len(l.counts))
	for k, n := range l.counts {
		out[k.app+" "+k.kind] = n
	}
	return out
}

// Summary words the counts for the end of a run, "" when no answer carried a warning:
//
//	12 answers succeeded only because the sandbox is lenient: unissued_token 7 (app token-3f…), open_on_first_send 5 (app 10001); --profile baidu makes them fail as Baidu would
func (l *Leniency) Summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.order) == 0 {
		return ""
	}
	type tally struct {
		n    int
		apps []string
	}
	byKind := map[string]*tally{}
	var kinds []string
	for _, k := range l.order {
		t := byKind[k.kind]
		if t == nil {
			t = &tally{}
			byKind[k.kind] = t
			kinds = append(kinds, k.kind)
		}
		t.n += l.counts[k]
		t.apps = append(t.apps, k.app)
	}
	var parts []string
	profile := false
	for _, kind := range kinds {
		t := byKind[kind]
		apps := t.apps
		more := ""
		if len(apps) > 3 {
			apps, more = apps[:3], fmt.Sprintf(" and %d more", len(t.apps)-3)
		}
		parts = append(parts, fmt.Sprintf("%s %d (app %s%s)", kind, t.n, strings.Join(apps, ", "), more))
		if _, byProfile := mockserver.WarningKind(kind).Fix(); byProfile {
			profile = true
		}
	}
	slices.Sort(parts)
	head := fmt.Sprintf("%d answers succeeded only because the sandbox is lenient", l.succeeded)
	switch l.succeeded {
	case 0:
		head = "no answer succeeded only because the sandbox is lenient"
	case 1:
		head = "1 answer succeeded only because the sandbox is lenient"
	}
	s := head + "; warnings by kind: " + strings.Join(parts, ", ")
	if profile {
		s += "; --profile baidu makes them fail as Baidu would (docs/fidelity.md)"
	}
	return s
}
