package contract

import (
	"fmt"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/contract/internal/casename"
	"github.com/smartappmock/smartappmock/contract/report"
)

// Fault is a transport fault the kit injects in front of the fake, on every send request of a case.
type Fault string

// The transport faults.
const (
	// FaultHTTP502 answers HTTP 502 with an HTML body, as a gateway in front of Baidu may.
	FaultHTTP502 Fault = "http_502"
	// FaultHTTP503 answers HTTP 503 with an HTML body.
	FaultHTTP503 Fault = "http_503"
	// FaultDrop closes the connection without an answer.
	FaultDrop Fault = "dropped_connection"
	// FaultMalformed answers HTTP 200, Content-Type application/json, with the fake's decided
	// envelope cut in half (config.FaultTruncated), so that a client that looks for `"errno":0` in
	// the text instead of parsing JSON is caught.
	FaultMalformed Fault = "malformed_body"
	// FaultSlow holds the answer for Suite.SlowHold, then drops the connection: the client must
	// give up first (it needs a timeout).
	FaultSlow Fault = "slow_answer"
	// FaultLostAck lets the service deliver and count the message, then resets the connection
	// (config.FaultReset with phase after): the acknowledgement is lost, and a blind retry reaches
	// the user twice.
	FaultLostAck Fault = "lost_ack"
)

// faultKind maps the kit's faults to the fake's own fault kinds (package fault delivers them, in
// process and on a target).
func faultKind(f Fault) config.FaultKind {
	switch f {
	case FaultHTTP502:
		return config.FaultHTTP502
	case FaultHTTP503:
		return config.FaultHTTP503
	case FaultDrop:
		return config.FaultEmpty
	case FaultMalformed:
		return config.FaultTruncated
	case FaultSlow:
		return config.FaultTimeout
	case FaultLostAck:
		return config.FaultReset
	}
	return ""
}

// faultPlan is the fault plan of a case's transport fault: its kind, and the phase where the kind's
// default is not the case's (a lost acknowledgement resets after the service acted).
func faultPlan(f Fault) config.Fault {
	p := config.Fault{Kind: faultKind(f)}
	if f == FaultLostAck {
		p.Phase = config.FaultPhaseAfter
	}
	return p
}

// faultPhase is where the case's fault strikes.
func faultPhase(f Fault) string {
	p := faultPlan(f)
	return p.PhaseFor(p.Kind)
}

// Case is one named check of the catalogue.
type Case struct {
	// Name identifies the case in reports, e.g. "errno_3001_fails_without_retry".
	Name string
	// Grade is report.GradeMust or report.GradeShould.
	Grade report.Grade
	// Doc says in one sentence what the case proves and why a real client must get it right.
	Doc string
	// Fault is the transport fault the case injects, if any; such cases need the in-process fake.
	Fault Fault
	// Aggregate cases send nothing themselves: they judge every request of the other cases.
	Aggregate bool

	msgs  []Message
	rules []config.Rule
	judge func(j *judge, t *trial)
	// The messages family (messages.go): the user never wrote (the window is closed), the user's
	// consent to a subscribe message, the client asked to check texts first.
	closed, consent, checkText bool
}

// head is the case's name, grade and doc, as a report shows them.
func (c Case) head() report.Result {
	return report.Result{Case: c.Name, Grade: c.Grade, Doc: c.Doc}
}

// skip is the result of the case when it cannot run, and why.
func (c Case) skip(why string) report.Result {
	r := c.head()
	r.Status, r.Reason = report.StatusSkip, why
	return r
}

// Messages returns the messages the kit asks the client to send in this case.
func (c Case) Messages() []Message {
	out := make([]Message, len(c.msgs))
	copy(out, c.msgs)
	return out
}

// caseOpenID is the user every case writes to.
const caseOpenID = "contract-user-1"

func textMsg(content string) Message {
	return Message{UserType: 1, OpenID: caseOpenID, MsgType: smartappmock.MsgTypeText, Content: content}
}

func imageMsg() Message {
	return Message{UserType: 2, OpenID: caseOpenID, MsgType: smartappmock.MsgTypeImage, PicURL: "https://img.example.com/contract/pic.png?size=large&v=2"}
}

// helloText has characters a client must form-encode: '&', '=', '+', '%', a space and Chinese.
const helloText = "contract kit: 你好 & welcome=1 + 100% sure"

func intp(n int) *int { return &n }

func errnoRule(errno int) []config.Rule {
	return []config.Rule{{Name: fmt.Sprintf("contract errno %d", errno), Answer: config.Answer{Errno: intp(errno)}}}
}

func gatewayRule(code, times int) []config.Rule {
	return []config.Rule{{Name: fmt.Sprintf("contract error_code %d", code), Answer: config.Answer{ErrorCode: intp(code)}, Times: times}}
}

// Cases returns the catalogue, in report order: a new slice on every call.
func Cases() []Case {
	cs := []Case{
		{Name: "text_delivered", Grade: report.GradeMust,
			Doc:  "A text message (with '&', '=', '+', '%' and Chinese in it) is fetched a token for, sent as a form and reported delivered on errno 0: the basic path every client needs.",
			msgs: []Message{textMsg(helloText)}, judge: judgeDelivered},
		{Name: "image_delivered", Grade: report.GradeMust,
			Doc:  "An image message (msg_type image, pic_url with its own query string) is sent and reported delivered: the second message type Baidu documents.",
			msgs: []Message{imageMsg()}, judge: judgeDelivered},
	}
	for _, e := range []struct {
		errno int
		why   string
	}{
		{smartappmock.ErrnoInvalidParam, "a bad parameter stays bad however often it is sent"},
		{smartappmock.ErrnoInvalidOpenID, "the open_id belongs to another mini program; a retry cannot fix it"},
		{smartappmock.ErrnoQuotaExceeded, "the user's reply quota is used up; retrying only adds load until the user writes again"},
		{smartappmock.ErrnoCapabilityDisabled, "customer service is off for the app; someone must switch it on"},
	} {
		errno := e.errno
		cs = append(cs, Case{Name: fmt.Sprintf("errno_%d_fails_without_retry", errno), Grade: report.GradeMust,
			Doc:   fmt.Sprintf("Business errno %d is reported to the caller as a failure and not retried: %s.", errno, e.why),
			msgs:  []Message{textMsg("contract: errno " + fmt.Sprint(errno))},
			rules: errnoRule(errno),
			judge: func(j *judge, t *trial) { j.failed(t, 0, errno); j.sends(t, 0, 1, 1, "a business error is final") }})
	}
	for _, code := range []int{smartappmock.CodeInvalidAccessToken, smartappmock.CodeAccessTokenExpired} {
		code := code
		cs = append(cs, Case{Name: fmt.Sprintf("token_%d_persistent_fails_bounded", code), Grade: report.GradeMust,
			Doc:   fmt.Sprintf("When every send answers gateway error_code %d, the client fails after at most one token refresh and one retry, never looping on the token endpoint.", code),
			msgs:  []Message{textMsg("contract: token error " + fmt.Sprint(code))},
			rules: gatewayRule(code, 0),
			judge: func(j *judge, t *trial) {
				j.failed(t, 0, code)
				j.sends(t, 0, 1, 2, "one retry with a new token at most")
				j.tokenFetches(t, 1, 2)
			}})
	}
	cs = append(cs,
		Case{Name: "gateway_17_daily_limit_surfaced", Grade: report.GradeMust,
			Doc:   "Gateway error_code 17 (daily request limit) is reported as a failure after one send: retrying cannot succeed before tomorrow and only burns the limit further.",
			msgs:  []Message{textMsg("contract: daily limit")},
			rules: gatewayRule(smartappmock.CodeDailyLimit, 0),
			judge: func(j *judge, t *trial) {
				j.failed(t, 0, smartappmock.CodeDailyLimit)
				j.sends(t, 0, 1, 1, "the daily limit does not reset within seconds")
			}},
		Case{Name: "gateway_18_qps_limit_surfaced", Grade: report.GradeMust,
			Doc:   "Gateway error_code 18 (QPS limit) is reported as a failure, with at most one retry after a pause: hammering a rate limit makes it worse.",
			msgs:  []Message{textMsg("contract: qps limit")},
			rules: gatewayRule(smartappmock.CodeQPSLimit, 0),
			judge: func(j *judge, t *trial) {
				j.failed(t, 0, smartappmock.CodeQPSLimit)
				j.sends(t, 0, 1, 2, "at most one retry")
				j.backoff(t, 0)
			}},
		Case{Name: "window_sixth_send_90001", Grade: report.GradeMust,
			Doc: "After the user writes, five replies are delivered and the sixth fails with errno 90001 without a retry: Baidu's 5-replies-in-48-hours window.",
			msgs: []Message{textMsg("contract: reply 1"), textMsg("contract: reply 2"), textMsg("contract: reply 3"),
				textMsg("contract: reply 4"), textMsg("contract: reply 5"), textMsg("contract: reply 6")},
			judge: func(j *judge, t *trial) {
				for i := range 5 {
					j.delivered(t, i)
				}
				j.failed(t, 5, smartappmock.ErrnoQuotaExceeded)
				j.sends(t, 5, 1, 1, "a used-up window stays used up")
			}},
	)
	for _, f := range []struct {
		fault Fault
		what  string
	}{
		{FaultHTTP502, "HTTP 502 with an HTML body"},
		{FaultHTTP503, "HTTP 503"},
		{FaultDrop, "a connection closed without an answer"},
		{FaultMalformed, "HTTP 200 with a truncated JSON body"},
		{FaultSlow, "an answer that never comes (held, then dropped)"},
	} {
		cs = append(cs, Case{Name: "fault_" + string(f.fault), Grade: report.GradeMust, Fault: f.fault,
			Doc:   fmt.Sprintf("On %s the client reports a clear failure, or retries at most twice with a pause between tries; it never reports delivered, crashes or loops.", f.what),
			msgs:  []Message{textMsg("contract: transient fault")},
			judge: judgeFault})
	}
	cs = append(cs,
		Case{Name: "lost_ack_not_resent", Grade: report.GradeShould, Fault: FaultLostAck,
			Doc:   "When the connection drops after the service delivered the message (the answer was lost on the way back), the client does not send it again: the service has no idempotency key, so a blind retry reaches the user twice. Report the failure instead, or retry only answers that prove nothing was delivered (an HTTP 5xx page).",
			msgs:  []Message{textMsg("contract: lost acknowledgement")},
			judge: judgeLostAck},
		Case{Name: "token_reused", Grade: report.GradeShould,
			Doc:   "Two sends in a row use one token from /oauth/2.0/token: the token lives 30 days and fetching one per send doubles the load and the latency.",
			msgs:  []Message{textMsg("contract: first"), textMsg("contract: second")},
			judge: judgeTokenReused},
		Case{Name: "token_110_refreshed_once", Grade: report.GradeShould,
			Doc:   "When a send answers error_code 110 (token invalid) once, the client fetches a new token and retries once, and the message is delivered.",
			msgs:  []Message{textMsg("contract: refresh after 110")},
			rules: gatewayRule(smartappmock.CodeInvalidAccessToken, 1), judge: judgeRefreshed},
		Case{Name: "token_111_refreshed_once", Grade: report.GradeShould,
			Doc:   "When a send answers error_code 111 (token expired) once, the client fetches a new token and retries once, and the message is delivered.",
			msgs:  []Message{textMsg("contract: refresh after 111")},
			rules: gatewayRule(smartappmock.CodeAccessTokenExpired, 1), judge: judgeRefreshed},
		Case{Name: "requests_match_openapi", Grade: report.GradeMust, Aggregate: true,
			Doc: "Every request the client sent in every case (token and send) is valid against openapi.yaml: a known operation, every required field present and well typed, content required by msg_type present."},
		Case{Name: "send_form_encoded", Grade: report.GradeMust, Aggregate: true,
			Doc: "Every send is a POST with an application/x-www-form-urlencoded (or multipart/form-data) body: Baidu does not read JSON bodies, so a JSON client loses every message."},
		Case{Name: "token_in_query", Grade: report.GradeShould, Aggregate: true,
			Doc: "Every send carries access_token in the query string, where Baidu documents it (the body works too, but only the query is documented)."},
		Case{Name: "no_sandbox_warnings", Grade: report.GradeShould, Aggregate: true,
			Doc: "No request passed only thanks to a leniency of the fake (an X-Smartappmock-Warning on its answer: a token the fake never issued, a form labelled JSON, a window opened without a user message, …): each distinct warning is reported as a request that would fail against Baidu."},
		Case{Name: "codes_reported", Grade: report.GradeShould, Aggregate: true,
			Doc: "Every failure the fake answered with a code is reported with that code (a Coder error in Go, {\"errno\":N} or {\"error_code\":N} as the last stdout line of a command), so the caller can tell a quota problem from a bad parameter."},
	)
	return cs
}

// selectFamily returns the cases of a family named in names (all when empty), or an error naming
// the unknown family or case.
func selectFamily(family string, names []string) ([]Case, error) {
	cs, err := familyCases(family)
	if err != nil {
		return nil, err
	}
	return casename.Select(cs, func(c Case) string { return c.Name }, "case", names)
}
