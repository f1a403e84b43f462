package contract

import (
	"fmt"
	"strconv"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/contract/report"
)

// The families of cases (Suite.Family, `contract run --family`).
const (
	// FamilySend is the customer-service send's catalogue (Cases).
	FamilySend = "send"
	// FamilyMessages is what a bot does around the send (MessageCases): past the 48-hour window
	// it falls back to a subscribe message the user consented to, and it checks a text with
	// syncCheckText before it replies.
	FamilyMessages = "messages"
)

// The exchanges' endpoints of the messages family (endpointOf).
const (
	endpointSubscribe = "subscribe"
	endpointCheck     = "check"
)

// The consent the messages family's user gave, and a text every content check refuses (a word
// of config.DefaultContentChecks).
const (
	caseTemplateID  = "contract-template"
	caseSubscribeID = "contract-order-shipped"
	riskyText       = "contract: 来赌博吧"
)

// familyCases returns the catalogue of a family.
func familyCases(family string) ([]Case, error) {
	switch family {
	case "", FamilySend:
		return Cases(), nil
	case FamilyMessages:
		return MessageCases(), nil
	}
	return nil, fmt.Errorf("unknown family %q (want %s or %s)", family, FamilySend, FamilyMessages)
}

// MessageCases returns the messages family's catalogue, in report order: a new slice on every
// call. Its client is a bot's reply path: send a customer-service message; when the send answers
// 90001 and the user consented to a subscribe message (Conn.TemplateID, Conn.SubscribeID), send
// that subscribe message instead, once; and with Conn.CheckText, check the text with
// syncCheckText first and never send one the check refuses.
func MessageCases() []Case {
	cs := []Case{
		{Name: "fallback_subscribe_after_90001", Grade: report.GradeMust, closed: true, consent: true,
			Doc:  "The user wrote more than 48 hours ago, so the reply answers errno 90001; the user consented to a subscribe message, and the client sends it (template/message/subscribe/send with the consent's template_id and subscribe_id) once, and reports the user reached: the one way past the window.",
			msgs: []Message{textMsg("contract: your order has shipped")}, judge: judgeFallback},
		{Name: "fallback_without_consent_fails", Grade: report.GradeMust, closed: true,
			Doc:  "The window is closed and the consent is gone (used by an earlier message, or cancelled): the subscribe message answers errno 4007, and the client reports a failure after at most one subscribe message, without retrying either call.",
			msgs: []Message{textMsg("contract: a second notice")}, judge: judgeFallbackRefused},
		{Name: "fallback_only_past_the_window", Grade: report.GradeMust, consent: true,
			Doc:  "While the window is open the reply is delivered and the client sends no subscribe message: a consent carries one message, and spending it inside the window leaves nothing for when it closes.",
			msgs: []Message{textMsg("contract: a reply inside the window")}, judge: judgeNoFallback},
		{Name: "check_text_blocks_risky_reply", Grade: report.GradeMust, checkText: true,
			Doc:  "The client checks the reply with riskDetection/v2/syncCheckText first; the check answers errno 82512 (potential risk), and the client sends nothing and reports the refusal.",
			msgs: []Message{textMsg(riskyText)}, judge: judgeCheckBlocks},
		{Name: "check_text_then_send", Grade: report.GradeMust, checkText: true,
			Doc:  "The client checks a clean reply with syncCheckText (errno 0, every type pass), then sends it, and it is delivered.",
			msgs: []Message{textMsg(helloText)}, judge: judgeCheckPasses},
	}
	for _, c := range Cases() {
		if c.Name == "requests_match_openapi" || c.Name == "no_sandbox_warnings" {
			cs = append(cs, c)
		}
	}
	return cs
}

// messagesSetup gives the case's client its consent and check settings, and the fake (cfg, nil
// against a target) the closed window and the consent.
func messagesSetup(c Case, cfg *config.Config, conn *Conn) {
	if c.closed || c.consent {
		conn.TemplateID, conn.SubscribeID = caseTemplateID, caseSubscribeID
	}
	conn.CheckText = c.checkText
	if cfg == nil {
		return
	}
	cfg.Apps[0].Templates = []string{caseTemplateID}
	if c.closed {
		cfg.Apps[0].UserMessages = nil
	}
	if c.consent {
		cfg.Apps[0].Subscriptions = []config.Subscription{{OpenID: caseOpenID, TemplateID: caseTemplateID, SubscribeID: caseSubscribeID}}
	}
}

// of returns the requests to an endpoint made while message i was in flight.
func (t *trial) of(endpoint string, i int) []exchange {
	var out []exchange
	for _, e := range t.ex {
		if e.Endpoint == endpoint && e.Message == i {
			out = append(out, e)
		}
	}
	return out
}

// answered checks that the requests es are n (at least lo, at most hi) and that the last was
// answered with business errno code.
func (j *judge) answered(es []exchange, what string, lo, hi, code int, why string) bool {
	if len(es) < lo || len(es) > hi {
		want := lines(es)
		if len(want) > hi {
			want = want[:hi]
		}
		j.fail(diffLines(want, lines(es)), "the client made %d %s requests; want %s (%s)", len(es), what, countRange(lo, hi), why)
		return false
	}
	if len(es) == 0 {
		return true
	}
	last := es[len(es)-1]
	if last.Entry == nil || last.Entry.Code != code {
		j.fail("", "the %s request was answered %s; the case needs errno %d", what, last.answer(), code)
		return false
	}
	return true
}

func countRange(lo, hi int) string {
	if lo == hi {
		return strconv.Itoa(lo)
	}
	return fmt.Sprintf("%d to %d", lo, hi)
}

// reported checks that message i was reported as a failure, naming (if it names one) one of codes.
func (j *judge) reported(t *trial, i int, codes ...int) {
	o, ok := j.outcome(t, i)
	if !ok {
		return
	}
	got := viewOf(o)
	want := outcomeView{Code: got.Code}
	switch {
	case o.Crash != "":
		j.fail(diffOutcome(want, got), "message %d: the client did not answer cleanly: %s", i+1, o.Crash)
	case o.Delivered:
		j.fail(diffOutcome(want, got), "message %d: the client reported delivered, but nothing reached the user", i+1)
	case o.Named && !containsInt(codes, o.Code):
		want.Code = strconv.Itoa(codes[0])
		j.fail(diffOutcome(want, got), "message %d: the client named code %d; the service answered %v", i+1, o.Code, codes)
	}
}

func containsInt(list []int, n int) bool {
	for _, v := range list {
		if v == n {
			return true
		}
	}
	return false
}

func judgeFallback(j *judge, t *trial) {
	if !j.answered(t.sendsOf(0), "send", 1, 1, smartappmock.ErrnoQuotaExceeded, "a closed window stays closed") {
		return
	}
	subs := t.of(endpointSubscribe, 0)
	if len(subs) == 0 {
		j.fail(diffLines([]string{"POST " + smartappmock.SubscribeSendPath + " -> business 0"}, nil),
			"the send answered 90001 and the client did not fall back to the subscribe message the user consented to (template %s, subscribe_id %s)", caseTemplateID, caseSubscribeID)
		return
	}
	if j.answered(subs, "subscribe message", 1, 1, 0, "one consent carries one message") {
		if o, ok := j.outcome(t, 0); ok && (!o.Delivered || o.Crash != "") {
			j.fail(diffOutcome(outcomeView{Delivered: true, Code: viewOf(o).Code}, viewOf(o)),
				"the subscribe message was delivered, but the client reported failure (%s)", firstNonEmpty(o.Crash, o.Err, "no detail"))
		}
	}
}

func judgeFallbackRefused(j *judge, t *trial) {
	j.answered(t.sendsOf(0), "send", 1, 1, smartappmock.ErrnoQuotaExceeded, "a closed window stays closed")
	j.answered(t.of(endpointSubscribe, 0), "subscribe message", 0, 1, smartappmock.ErrnoNotSubscribed, "4007 is final: no consent is left")
	j.reported(t, 0, smartappmock.ErrnoNotSubscribed, smartappmock.ErrnoQuotaExceeded)
}

func judgeNoFallback(j *judge, t *trial) {
	j.delivered(t, 0)
	j.answered(t.of(endpointSubscribe, 0), "subscribe message", 0, 0, 0, "the reply was delivered: keep the consent for when the window closes")
}

func judgeCheckBlocks(j *judge, t *trial) {
	j.answered(t.of(endpointCheck, 0), "syncCheckText", 1, 2, smartappmock.ErrnoRiskFound, "check once")
	j.answered(t.sendsOf(0), "send", 0, 0, 0, "the check refused the text: it must not reach the user")
	j.reported(t, 0, smartappmock.ErrnoRiskFound)
}

func judgeCheckPasses(j *judge, t *trial) {
	checks := t.of(endpointCheck, 0)
	if !j.answered(checks, "syncCheckText", 1, 2, 0, "check once") {
		return
	}
	j.delivered(t, 0)
	if sends := t.sendsOf(0); len(sends) > 0 && sends[0].Start.Before(checks[0].End) {
		j.fail("", "the client sent the reply before the check answered: check first, then send")
	}
}
