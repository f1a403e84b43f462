package contract

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/contract/report"
	"github.com/smartappmock/smartappmock/internal/spec"
	"github.com/smartappmock/smartappmock/mockserver"
)

// minBackoff is the shortest pause between two tries that still counts as a backoff.
const minBackoff = 100 * time.Millisecond

// maxFaultAttempts is how many send requests one message may take under a transport fault.
const maxFaultAttempts = 3

// trial is one case run against one client: what it was asked, what it said, what it sent.
type trial struct {
	c        Case
	msgs     []Message
	outcomes []Outcome
	ex       []exchange
	hold     time.Duration
}

// sendsOf returns the send requests made while message i was in flight.
func (t *trial) sendsOf(i int) []exchange {
	var out []exchange
	for _, e := range t.ex {
		if e.Endpoint == "send" && e.Message == i {
			out = append(out, e)
		}
	}
	return out
}

func (t *trial) tokenFetches() []exchange {
	var out []exchange
	for _, e := range t.ex {
		if e.Endpoint == "token" {
			out = append(out, e)
		}
	}
	return out
}

// judge collects findings.
type judge struct {
	findings []report.Finding
}

func (j *judge) fail(diff, format string, args ...any) {
	j.findings = append(j.findings, report.Finding{Reason: fmt.Sprintf(format, args...), Diff: diff})
}

// outcomeView is what a diff shows of an outcome.
type outcomeView struct {
	Delivered bool
	Code      string
	Crash     string
}

func viewOf(o Outcome) outcomeView {
	v := outcomeView{Delivered: o.Delivered, Code: "(not named)", Crash: o.Crash}
	if o.Named {
		v.Code = strconv.Itoa(o.Code)
	}
	return v
}

func lines(es []exchange) []string {
	out := make([]string, len(es))
	for i := range es {
		out[i] = es[i].line()
	}
	return out
}

func (j *judge) outcome(t *trial, i int) (Outcome, bool) {
	if i >= len(t.outcomes) {
		j.fail("", "message %d: the client was never asked to send it (an earlier message could not run)", i+1)
		return Outcome{}, false
	}
	return t.outcomes[i], true
}

// delivered checks that message i was delivered: the client said so and the fake agrees.
func (j *judge) delivered(t *trial, i int) {
	o, ok := j.outcome(t, i)
	if !ok {
		return
	}
	sends := t.sendsOf(i)
	if !o.Delivered || o.Crash != "" {
		want := outcomeView{Delivered: true, Code: viewOf(o).Code}
		j.fail(diffOutcome(want, viewOf(o)), "message %d: the client reported failure (%s); want delivered. Its requests: %s",
			i+1, firstNonEmpty(o.Crash, o.Err, "no detail"), strings.Join(lines(sends), "; "))
		return
	}
	if len(sends) == 0 {
		j.fail("", "message %d: the client reported delivered but sent no request to the send endpoint", i+1)
		return
	}
	last := sends[len(sends)-1]
	if last.Entry == nil || !last.Entry.OK() {
		j.fail(diffLines([]string{"POST " + "/rest/2.0/smartapp/message/custom/send -> business 0"}, lines(sends)),
			"message %d: the client reported delivered, but the last answer was %s", i+1, last.answer())
	}
}

// failed checks that message i was reported as a failure after the fake answered code, and that a
// code the client named is the one the fake answered.
func (j *judge) failed(t *trial, i, code int) {
	o, ok := j.outcome(t, i)
	if !ok {
		return
	}
	answered := code
	if s := t.sendsOf(i); len(s) > 0 && s[len(s)-1].Entry != nil {
		e := s[len(s)-1].Entry
		answered = e.Code
		if e.Code != code {
			j.fail("", "message %d: the case needs the answer %d, but the fake answered %s because of the request itself: %s",
				i+1, code, e.Outcome(), e.Reason)
		}
	}
	want := outcomeView{Delivered: false, Code: strconv.Itoa(answered)}
	got := viewOf(o)
	if !o.Named {
		want.Code = got.Code // naming the code is a should (codes_reported)
	}
	switch {
	case o.Crash != "":
		j.fail(diffOutcome(want, got), "message %d: the client did not answer cleanly: %s", i+1, o.Crash)
	case o.Delivered:
		j.fail(diffOutcome(want, got), "message %d: the client reported delivered, but the service answered %d (not delivered)", i+1, answered)
	case o.Named && o.Code != answered:
		j.fail(diffOutcome(want, got), "message %d: the client named code %d, but the service answered %d", i+1, o.Code, answered)
	}
}

// sends checks how many send requests message i took.
func (j *judge) sends(t *trial, i, min, max int, why string) {
	s := t.sendsOf(i)
	if len(s) >= min && len(s) <= max {
		return
	}
	got := lines(s)
	want := got
	if len(got) > max {
		want = got[:max]
	}
	if len(s) < min {
		j.fail("", "message %d: the client sent %d send requests; want at least %d", i+1, len(s), min)
		return
	}
	j.fail(diffLines(want, got), "message %d: the client sent %d send requests; want at most %d (%s)", i+1, len(s), max, why)
}

// tokenFetches checks how many token requests the case took.
func (j *judge) tokenFetches(t *trial, min, max int) {
	n := len(t.tokenFetches())
	if n >= min && n <= max {
		return
	}
	got := lines(t.tokenFetches())
	want := got
	if n > max {
		want = got[:max]
	}
	j.fail(diffLines(want, got), "the client made %d token requests; want between %d and %d", n, min, max)
}

// backoff checks that retries of message i came after a pause.
func (j *judge) backoff(t *trial, i int) {
	s := t.sendsOf(i)
	for k := 1; k < len(s); k++ {
		gap := s[k].Start.Sub(s[k-1].End)
		if gap < minBackoff {
			j.fail("", "message %d: try %d came %s after try %d ended; want a pause of at least %s (backoff)",
				i+1, k+1, gap.Round(time.Millisecond), k, minBackoff)
			return
		}
	}
}

func judgeDelivered(j *judge, t *trial) {
	for i := range t.msgs {
		j.delivered(t, i)
	}
}

func judgeFault(j *judge, t *trial) {
	o, ok := j.outcome(t, 0)
	if !ok {
		return
	}
	if o.Crash != "" {
		j.fail(diffOutcome(outcomeView{Code: viewOf(o).Code}, viewOf(o)), "the client did not answer cleanly: %s", o.Crash)
	} else if o.Delivered {
		j.fail(diffOutcome(outcomeView{Code: viewOf(o).Code}, viewOf(o)),
			"the client reported delivered, but every send was answered with the fault %s: it cannot know that anything was delivered", t.c.Fault)
	}
	j.sends(t, 0, 1, maxFaultAttempts, "a bounded retry")
	j.backoff(t, 0)
	if t.c.Fault == FaultSlow {
		for k, e := range t.sendsOf(0) {
			if !e.Raw {
				// A target's journal does not say when the client gave up: judge by its time.
				if o.Elapsed >= t.hold {
					j.fail("", "the client took %s against an answer that never came; it needs a timeout shorter than %s (Baidu's Go SDK uses 3s)",
						o.Elapsed.Round(time.Millisecond), t.hold)
				}
				break
			}
			if !e.Abandoned {
				j.fail("", "try %d: the client still waited after %s without an answer; it needs a timeout shorter than that (Baidu's Go SDK uses 3s)",
					k+1, t.hold)
			}
		}
	}
}

// judgeLostAck: every try reached the service and was delivered, then its answer was lost; the
// user must get the message once.
func judgeLostAck(j *judge, t *trial) {
	o, ok := j.outcome(t, 0)
	if !ok {
		return
	}
	if o.Crash != "" {
		j.fail(diffOutcome(outcomeView{Code: viewOf(o).Code}, viewOf(o)), "the client did not answer cleanly: %s", o.Crash)
	}
	sends := t.sendsOf(0)
	var delivered []exchange
	for _, e := range sends {
		if e.Entry != nil && e.Entry.OK() && e.Entry.FaultPhase != config.FaultPhaseBefore {
			delivered = append(delivered, e)
		}
	}
	if len(delivered) > 1 {
		j.fail(diffLines(lines(delivered[:1]), lines(delivered)),
			"the user received the message %d times: the service delivered it, the connection dropped before the answer, and the client sent it again (the journal holds %d deliveries)",
			len(delivered), len(delivered))
	}
}

// kitWarnings are the warning kinds the kit's own set-up causes: its rules force answers, a target
// serves its apps and platform as sandbox ones. They say nothing about the client.
var kitWarnings = map[string]bool{
	string(mockserver.WarnRule):               true,
	string(mockserver.WarnMagicValue):         true,
	string(mockserver.WarnUnconfiguredClient): true,
	string(mockserver.WarnSandboxPlatform):    true,
}

// checkWarnings reports each distinct warning (by kind) the fake gave the client's requests, once,
// with the first request that got it.
func checkWarnings(j *judge, trials []*trial) {
	seen := map[string]bool{}
	for _, t := range trials {
		for k, e := range t.ex {
			if e.Entry == nil {
				continue
			}
			for _, w := range e.Entry.Warnings {
				if kitWarnings[w.Kind] || seen[w.Kind] {
					continue
				}
				seen[w.Kind] = true
				j.fail("", "would fail against Baidu: %s (first in %s)", w.Message, caseRef(t, k, e))
			}
		}
	}
}

// addWarnings counts in rep the warnings the fake gave the client's requests, by kind, leaving
// out those the kit's own set-up causes.
func addWarnings(rep *report.Report, trials []*trial) {
	for _, t := range trials {
		for _, e := range t.ex {
			if e.Entry == nil {
				continue
			}
			for _, w := range e.Entry.Warnings {
				if !kitWarnings[w.Kind] {
					rep.AddWarning(w.Kind, w.Message)
				}
			}
		}
	}
	slices.SortFunc(rep.Warnings, func(a, b report.Warning) int { return strings.Compare(a.Kind, b.Kind) })
}

func judgeTokenReused(j *judge, t *trial) {
	judgeDelivered(j, t)
	fetches := t.tokenFetches()
	if len(fetches) != 1 {
		j.fail(diffLines(lines(fetches[:min(1, len(fetches))]), lines(fetches)),
			"the client made %d token requests for %d sends; want 1 (a token lives 30 days: cache it)", len(fetches), len(t.msgs))
	}
	seen := map[string]bool{}
	for _, e := range t.ex {
		if e.Endpoint == "send" && e.Entry != nil && e.Entry.Token != "" {
			seen[e.Entry.Token] = true
		}
	}
	if len(seen) > 1 {
		j.fail("", "the sends used %d different tokens; want 1", len(seen))
	}
}

func judgeRefreshed(j *judge, t *trial) {
	j.delivered(t, 0)
	j.tokenFetches(t, 2, 2)
	s := t.sendsOf(0)
	if len(s) != 2 {
		want := []string{"POST /rest/2.0/smartapp/message/custom/send -> gateway N", "POST /rest/2.0/smartapp/message/custom/send -> business 0"}
		j.fail(diffLines(want, lines(s)), "the client sent %d send requests; want 2 (the rejected one, then one retry with a new token)", len(s))
		return
	}
	if s[0].Entry != nil && s[1].Entry != nil && s[0].Entry.Token == s[1].Entry.Token {
		j.fail("", "the retry used the same token that was rejected; want a new token from /oauth/2.0/token")
	}
}

// caseRef names a request in an aggregate finding: "text_delivered, message 1, request 2".
func caseRef(t *trial, k int, e exchange) string {
	return fmt.Sprintf("%s, message %d, request %d (%s %s)", t.c.Name, e.Message+1, k+1, e.Method, redactTarget(e.Target))
}

// redactTarget shortens an access_token in a request URI to its first 8 characters.
func redactTarget(target string) string {
	path, q, ok := strings.Cut(target, "?")
	if !ok {
		return target
	}
	vals, err := url.ParseQuery(q)
	if err != nil || !vals.Has("access_token") {
		return target
	}
	tok := vals.Get("access_token")
	if len(tok) > 8 {
		vals.Set("access_token", tok[:8]+"...")
	}
	return path + "?" + vals.Encode()
}

// maxAggregateFindings keeps aggregate reports short.
const maxAggregateFindings = 5

// judgeAggregate judges an aggregate case over every trial.
func judgeAggregate(c Case, sp *spec.Spec, trials []*trial) []report.Finding {
	j := &judge{}
	if c.Name == "no_sandbox_warnings" {
		checkWarnings(j, trials)
		return j.findings
	}
	for _, t := range trials {
		for k, e := range t.ex {
			if len(j.findings) >= maxAggregateFindings {
				j.fail("", "(more findings left out)")
				return j.findings
			}
			switch c.Name {
			case "requests_match_openapi":
				checkOpenAPI(j, sp, t, k, e)
			case "send_form_encoded":
				if e.Endpoint != "send" {
					continue
				}
				ct := e.Header.Get("Content-Type")
				mt, _, _ := mime.ParseMediaType(ct)
				if e.Method != http.MethodPost || (mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data") {
					j.fail(diffScalar("POST application/x-www-form-urlencoded", e.Method+" "+firstNonEmpty(ct, "(no Content-Type)")),
						"%s: not a form POST", caseRef(t, k, e))
				}
			case "token_in_query":
				if e.Endpoint != "send" {
					continue
				}
				_, q, _ := strings.Cut(e.Target, "?")
				vals, _ := url.ParseQuery(q)
				if !vals.Has("access_token") {
					j.fail("", "%s: access_token is not in the query string", caseRef(t, k, e))
				}
			}
		}
		if c.Name == "codes_reported" {
			checkCodes(j, t)
		}
	}
	return j.findings
}

func checkOpenAPI(j *judge, sp *spec.Spec, t *trial, k int, e exchange) {
	req, err := http.NewRequest(e.Method, "http://contract.invalid"+e.Target, nil)
	if err != nil {
		j.fail("", "%s: unreadable request: %v", caseRef(t, k, e), err)
		return
	}
	req.Header = e.Header.Clone()
	vs := sp.CheckRequest(req, e.Body)
	if len(vs) == 0 {
		return
	}
	src := "as sent"
	if !e.Raw {
		src = "rebuilt from the target's journal"
	}
	j.fail(diffViolations(nil, vs), "%s (%s): %s", caseRef(t, k, e), src, spec.Join(vs))
}

// checkCodes finds failures the fake answered with a code that the client did not name.
func checkCodes(j *judge, t *trial) {
	for i, o := range t.outcomes {
		if o.Delivered || o.Crash != "" || o.Named {
			continue
		}
		s := t.sendsOf(i)
		// A fault hid the answer from the client (even when the service decided one behind it):
		// there was no code to name.
		if len(s) == 0 || s[len(s)-1].Fault != "" || s[len(s)-1].Entry == nil || s[len(s)-1].Entry.OK() {
			continue
		}
		j.fail("", "%s, message %d: the service answered %s; the client reported a failure without naming the code",
			t.c.Name, i+1, s[len(s)-1].answer())
		return
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
