package config

import (
	"fmt"
	"strings"
	"time"
)

// FaultKind names a network failure the fake can inject into the answer of a send.
type FaultKind string

// Fault kinds.
const (
	// FaultNone lets a send through untouched; it is only useful as a step of a Sequence.
	FaultNone FaultKind = "none"
	// FaultHTTP500 … FaultHTTP504 answer that HTTP status with a gateway's HTML error page instead
	// of the envelope, as a load balancer in front of the service would.
	FaultHTTP500 FaultKind = "http_500"
	FaultHTTP502 FaultKind = "http_502"
	FaultHTTP503 FaultKind = "http_503"
	FaultHTTP504 FaultKind = "http_504"
	// FaultReset resets the TCP connection (RST) instead of answering.
	FaultReset FaultKind = "reset"
	// FaultEmpty closes the connection without answering (the client reads EOF).
	FaultEmpty FaultKind = "empty"
	// FaultTruncated answers the first half of the JSON envelope, with a matching Content-Length.
	FaultTruncated FaultKind = "truncated"
	// FaultMalformed answers a JSON envelope with a syntax error.
	FaultMalformed FaultKind = "malformed"
	// FaultContentType answers the envelope labelled text/html instead of application/json.
	FaultContentType FaultKind = "content_type"
	// FaultDrip sends the headers at once and then the body one chunk at a time, DripInterval apart.
	FaultDrip FaultKind = "drip"
	// FaultTimeout holds the request without answering until the client gives up (at most
	// MaxFaultHold), then closes the connection.
	FaultTimeout FaultKind = "timeout"
)

// FaultKinds returns every kind a fault may name, in documentation order.
func FaultKinds() []FaultKind {
	return []FaultKind{FaultHTTP500, FaultHTTP502, FaultHTTP503, FaultHTTP504, FaultReset, FaultEmpty,
		FaultTruncated, FaultMalformed, FaultContentType, FaultDrip, FaultTimeout}
}

// Known reports whether k is one of FaultKinds (or FaultNone when none is allowed).
func (k FaultKind) Known(noneAllowed bool) bool {
	if k == FaultNone {
		return noneAllowed
	}
	for _, x := range FaultKinds() {
		if k == x {
			return true
		}
	}
	return false
}

// Limits of fault settings: a fault must never hang a test run for long.
const (
	// MaxFaultLatency is the longest latency a fault may add.
	MaxFaultLatency = 10 * time.Minute
	// MaxFaultHold is how long a FaultTimeout holds a request when the client does not give up.
	MaxFaultHold = 2 * time.Minute
	// DefaultDripInterval is the pause between the chunks of a FaultDrip.
	DefaultDripInterval = 100 * time.Millisecond
)

// Fault phases: where a fault strikes.
const (
	// FaultPhaseBefore: the request never reached the service. Nothing is counted (no window
	// reply, limit or rule use), and the journal entry says so.
	FaultPhaseBefore = "before"
	// FaultPhaseAfter: the service acted and counted, and its answer was lost on the way back —
	// the lost acknowledgement that tests whether a client's retry sends twice.
	FaultPhaseAfter = "after"
)

// DefaultFaultPhase is where a kind strikes when the fault does not say: a gateway's HTTP 5xx
// page, a reset, an empty answer and a timeout come before the service; a truncated, malformed,
// mislabelled or dripping answer (and a mere latency, or none) after it.
func DefaultFaultPhase(kind FaultKind) string {
	switch kind {
	case FaultHTTP500, FaultHTTP502, FaultHTTP503, FaultHTTP504, FaultReset, FaultEmpty, FaultTimeout:
		return FaultPhaseBefore
	}
	return FaultPhaseAfter
}

// PhaseFor returns where the fault strikes when it injects kind (a step of its Sequence, or its
// Kind): its Phase when set, else DefaultFaultPhase(kind).
func (f Fault) PhaseFor(kind FaultKind) string {
	if f.Phase != "" {
		return f.Phase
	}
	return DefaultFaultPhase(kind)
}

// Fault injects a network failure into the answers of matching sends. Phase says where it strikes:
// before the service (nothing is counted) or after it (the send counts toward its window, as when
// a real answer is lost on the way back); the fake then delays, replaces or mangles the answer.
type Fault struct {
	// Name describes the fault in the journal; empty means "faults[i]".
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Match selects sends; empty fields match anything.
	Match Match `yaml:"match,omitempty" json:"match,omitzero"`
	// Kind is what goes wrong. Empty with a Latency: the answer is only delayed.
	Kind FaultKind `yaml:"kind,omitempty" json:"kind,omitempty"`
	// Sequence is a deterministic plan instead of Kind: the n-th injected send gets Sequence[n]
	// ("none" lets one through); after the last step sends are normal again.
	Sequence []FaultKind `yaml:"sequence,omitempty" json:"sequence,omitempty"`
	// Latency delays the answer: a fixed "200ms" or a range "100ms-2s" drawn from the seeded source.
	Latency LatencyRange `yaml:"latency,omitempty" json:"latency,omitzero"`
	// Probability is the chance, between 0 and 1, that a matching send is faulted; 0 means always.
	Probability float64 `yaml:"probability,omitempty" json:"probability,omitempty"`
	// Seed seeds the random source of Probability and Latency ranges: the same seed replays the
	// same faults for the same sequence of sends.
	Seed uint64 `yaml:"seed,omitempty" json:"seed,omitempty"`
	// Skip lets the first N matching sends through before the fault starts.
	Skip int `yaml:"skip,omitempty" json:"skip,omitempty"`
	// Times limits the fault to its first N injections; 0 means no limit.
	Times int `yaml:"times,omitempty" json:"times,omitempty"`
	// DripInterval is the pause between chunks of a drip (default 100ms).
	DripInterval Duration `yaml:"drip_interval,omitempty" json:"drip_interval,omitempty"`
	// DripBytes is the size of each chunk of a drip (default 1).
	DripBytes int `yaml:"drip_bytes,omitempty" json:"drip_bytes,omitempty"`
	// Phase is FaultPhaseBefore or FaultPhaseAfter for every kind the fault injects; empty takes
	// DefaultFaultPhase of each kind (see PhaseFor).
	Phase string `yaml:"phase,omitempty" json:"phase,omitempty"`
}

// LatencyRange is a delay, fixed ("200ms") or a range ("100ms-2s"), each with its unit.
type LatencyRange struct {
	// Min and Max bound the delay; they are equal for a fixed latency.
	Min, Max time.Duration
}

// IsZero reports whether no latency is set.
func (l LatencyRange) IsZero() bool { return l.Min == 0 && l.Max == 0 }

// String renders "200ms" or "100ms-2s".
func (l LatencyRange) String() string {
	if l.Min == l.Max {
		return l.Min.String()
	}
	return l.Min.String() + "-" + l.Max.String()
}

// MarshalText renders the latency as String does.
func (l LatencyRange) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText parses "200ms" or "100ms-2s"; a number without a unit is refused with the fix.
func (l *LatencyRange) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	lo, hi, isRange := strings.Cut(s, "-")
	var d1, d2 Duration
	if err := d1.UnmarshalText([]byte(lo)); err != nil || lo == "" {
		return latencyError(s, err)
	}
	d2 = d1
	if isRange {
		if err := d2.UnmarshalText([]byte(hi)); err != nil || hi == "" {
			return latencyError(s, err)
		}
	}
	l.Min, l.Max = time.Duration(d1), time.Duration(d2)
	return nil
}

// latencyError explains a latency that does not parse; a part without a unit gets its fix.
func latencyError(s string, part error) error {
	if part != nil && strings.Contains(part.Error(), "has no unit") {
		return fmt.Errorf("invalid latency %q: %v", s, part)
	}
	return fmt.Errorf("invalid latency %q (want e.g. 200ms or a range 100ms-2s)", s)
}

// Label returns the fault's name, or "<where>[i]" when it has none.
func (f Fault) Label(where string, i int) string {
	if f.Name != "" {
		return f.Name
	}
	return fmt.Sprintf("%s[%d]", where, i)
}

// validateFaults checks a list of faults found at path (e.g. "faults" or "apps[0].faults").
// appID, when not empty, is the app the list belongs to.
func validateFaults(path, appID string, faults []Fault, errs *Errors) {
	add := func(p, format string, args ...any) {
		*errs = append(*errs, &Error{Path: p, Reason: fmt.Sprintf(format, args...)})
	}
	kinds := make([]string, 0, len(FaultKinds()))
	for _, k := range FaultKinds() {
		kinds = append(kinds, string(k))
	}
	known := strings.Join(kinds, ", ")
	for i, f := range faults {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case f.Kind == "" && len(f.Sequence) == 0 && f.Latency.IsZero():
			add(p, "needs kind, sequence or latency")
		case f.Kind != "" && len(f.Sequence) > 0:
			add(p, "takes kind or sequence, not both")
		case f.Kind != "" && !f.Kind.Known(false):
			add(p+".kind", "unknown fault kind %q (want one of %s)", f.Kind, known)
		}
		for j, k := range f.Sequence {
			if !k.Known(true) {
				add(fmt.Sprintf("%s.sequence[%d]", p, j), "unknown fault kind %q (want none or one of %s)", k, known)
			}
		}
		if f.Latency.Min < 0 || f.Latency.Max < f.Latency.Min {
			add(p+".latency", "must be a positive duration or a range low-high with low <= high")
		} else if f.Latency.Max > MaxFaultLatency {
			add(p+".latency", "must be at most %s", MaxFaultLatency)
		}
		if f.Probability < 0 || f.Probability > 1 {
			add(p+".probability", "must be between 0 and 1 (0.05 is 5%%), got %v", f.Probability)
		}
		if f.Skip < 0 {
			add(p+".skip", "must not be negative")
		}
		if f.Times < 0 {
			add(p+".times", "must not be negative")
		}
		if f.DripInterval < 0 || time.Duration(f.DripInterval) > 10*time.Second {
			add(p+".drip_interval", "must be between 0 and 10s")
		}
		if f.DripBytes < 0 {
			add(p+".drip_bytes", "must not be negative")
		}
		switch f.Phase {
		case "", FaultPhaseBefore, FaultPhaseAfter:
		default:
			add(p+".phase", "must be %q (the request never reached the service) or %q (its answer was lost), got %q", FaultPhaseBefore, FaultPhaseAfter, f.Phase)
		}
		if m := f.Match.MsgType; m != "" && m != "text" && m != "image" {
			add(p+".match.msg_type", "must be text or image, got %q", m)
		}
		if appID != "" && f.Match.App != "" && f.Match.App != appID {
			add(p+".match.app", "is %q inside app %q: an app's faults apply to that app only", f.Match.App, appID)
		}
	}
}

// ParseFaults decodes a faults document, {"faults": [...]} in JSON or YAML, with the same
// strictness and checks as Parse. It is what the admin API uses to replace the faults.
func ParseFaults(name string, data []byte) ([]Fault, error) {
	var doc struct {
		Faults []Fault `yaml:"faults"`
	}
	err := decodeDocument(name, data, &doc, func(errs *Errors) {
		if doc.Faults == nil {
			doc.Faults = []Fault{}
		}
		validateFaults("faults", "", doc.Faults, errs)
	})
	if err != nil {
		return nil, err
	}
	return doc.Faults, nil
}
