package mockserver

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver/fault"
	"github.com/smartappmock/smartappmock/mockserver/params"
	"github.com/smartappmock/smartappmock/store"
)

// Decision is what the fake decided to answer a request: the layer and code of the envelope, why,
// and the rule or magic value that forced it; for a send also the app it is charged to, the app's
// clock, and the network fault that delivers the answer.
type Decision struct {
	Layer  smartappmock.Layer
	Code   int
	Reason string
	Rule   string
	// Warnings say how the answer differs from what the real service would answer; each goes in
	// an X-Smartappmock-Warning header and the journal. The body never changes.
	Warnings []store.Warning
	// App is the app the request is charged to ("" when none could be told) and AppTime the
	// app's clock when it was decided.
	App     string
	AppTime time.Time
	// Fault, when not nil, is the fault that picked the request: the answer goes through it.
	Fault *fault.Plan
}

// gateway and business build decisions of their layer.
func gateway(code int, reason string) Decision {
	return Decision{Layer: smartappmock.LayerGateway, Code: code, Reason: reason}
}

func business(code int, reason string) Decision {
	return Decision{Layer: smartappmock.LayerBusiness, Code: code, Reason: reason}
}

// storeDown is the decision when the store does not answer: Baidu's "service unavailable".
func storeDown(err error) Decision {
	return gateway(smartappmock.CodeUnavailable, "store: "+err.Error())
}

// envelope is a rendered answer: its body, and the values of its outcome and length headers.
type envelope struct {
	body            []byte
	outcome, length string
}

func newEnvelope(d Decision, body []byte) envelope {
	return envelope{body: body, outcome: string(d.Layer) + " " + strconv.Itoa(d.Code), length: strconv.Itoa(len(body))}
}

// envelope returns the answer of a decision: pre-rendered for the codes of the catalogue.
func (s *Server) envelope(d Decision) envelope {
	if env, ok := s.bodies[answerKey{d.Layer, d.Code}]; ok {
		return env
	}
	// A code outside the catalogue (a rule may name one): keep the envelope shape.
	if d.Layer == smartappmock.LayerGateway {
		return newEnvelope(d, mustJSON(smartappmock.GatewayEnvelope{ErrorCode: d.Code, ErrorMsg: "Unknown error"}))
	}
	return newEnvelope(d, mustJSON(smartappmock.BusinessEnvelope{Errno: d.Code, Msg: "error", Data: map[string]any{}}))
}

// writeEnvelope writes an HTTP 200 envelope with the fake's outcome, reason and id headers.
func (s *Server) writeEnvelope(w http.ResponseWriter, d Decision, id string) {
	s.writeEnv(w, d, id, s.envelope(d))
}

// writeEnv writes the envelope env of a decision, as writeEnvelope does.
func (s *Server) writeEnv(w http.ResponseWriter, d Decision, id string, env envelope) {
	setEnvelopeHeader(w.Header(), d, id, env)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(env.body)
}

// render returns the envelope env of a decision as a value, for a fault to deliver.
func render(d Decision, id string, env envelope) fault.Answer {
	h := http.Header{}
	setEnvelopeHeader(h, d, id, env)
	return fault.Answer{Status: http.StatusOK, Header: h, Body: env.body}
}

// setEnvelopeHeader sets the headers of an envelope answer. The keys are canonical already:
// assigning skips Header.Set's canonicalization (a profile hot spot), the outcome and length are
// rendered once per envelope, and the values share one backing array (the warnings' too, when
// no warning header is there yet), each slice capped so that an Add elsewhere copies.
func setEnvelopeHeader(h http.Header, d Decision, id string, env envelope) {
	n := 4
	if d.Reason != "" {
		n++
	}
	warnings := h[smartappmock.HeaderWarning]
	if len(warnings) == 0 {
		n += len(d.Warnings)
	}
	vals := make([]string, n)
	vals[0], vals[1], vals[2], vals[3] = "application/json", env.outcome, id, env.length
	h["Content-Type"], h[smartappmock.HeaderOutcome], h[smartappmock.HeaderRequestID], h["Content-Length"] = vals[0:1:1], vals[1:2:2], vals[2:3:3], vals[3:4:4]
	i := 4
	if d.Reason != "" {
		vals[i] = HeaderSafe(d.Reason)
		h[smartappmock.HeaderReason] = vals[i : i+1 : i+1]
		i++
	}
	if len(d.Warnings) == 0 {
		return
	}
	if len(warnings) == 0 {
		for j, w := range d.Warnings {
			vals[i+j] = HeaderSafe(w.Message)
		}
		h[smartappmock.HeaderWarning] = vals[i : i+len(d.Warnings) : i+len(d.Warnings)]
		return
	}
	for _, w := range d.Warnings {
		h[smartappmock.HeaderWarning] = append(h[smartappmock.HeaderWarning], HeaderSafe(w.Message))
	}
}

// RedactToken keeps a token's type prefix and a short hash: enough to tell tokens apart in the
// journal, useless to an attacker.
func RedactToken(t string) string { return params.RedactToken(t) }

// HeaderSafe makes a text fit an HTTP header: printable ASCII, other runes escaped, at most 1 KiB.
func HeaderSafe(s string) string {
	if len(s) <= 1024 && isPrintableASCII(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		if b.Len() > 1024 {
			b.WriteString("...")
			break
		}
	}
	return b.String()
}

// journalMethod is the method as an entry keeps it: the usual ones as constants, anything else a
// clipped copy (the request line's strings would keep the whole line, up to 64 KiB, alive).
func journalMethod(m string) string {
	switch m {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodHead:
		return http.MethodHead
	}
	return clipTo(m, 32)
}

// journalContentType is the Content-Type as an entry keeps it: a form's as a constant, anything
// else a clipped copy.
func journalContentType(ct string) string {
	if ct == formType {
		return formType
	}
	return params.ClipCopy(ct)
}

const formType = "application/x-www-form-urlencoded"

// journalPath is the path as an entry keeps it: the API's paths as constants, anything else a
// copy clipped to 256 bytes.
func journalPath(p string) string {
	switch p {
	case smartappmock.SendPath:
		return smartappmock.SendPath
	case smartappmock.SendByTPPath:
		return smartappmock.SendByTPPath
	case smartappmock.TokenPath:
		return smartappmock.TokenPath
	}
	return clipTo(p, 256)
}

// maxJournalReason bounds an entry's reason (a reason can quote what a client sent).
const maxJournalReason = 2048

// clipTo returns a copy of s cut to n bytes (on a UTF-8 boundary), marked with its length.
func clipTo(s string, n int) string {
	if len(s) <= n {
		return strings.Clone(s)
	}
	cut := n
	for cut > n-utf8.UTFMax && cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes, cut)"
}
