package mockserver

import (
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver/fault"
)

// The kinds of warning an answer carries (store.Warning.Kind): every way the sandbox answers what
// the real service would not.
const (
	// WarnUnissuedToken: a token this fake never issued was accepted as an app of its own.
	WarnUnissuedToken = "unissued_token"
	// WarnUnconfiguredClient: the token was issued to a client_id that is not configured.
	WarnUnconfiguredClient = "unconfigured_client"
	// WarnOpenOnFirstSend: the reply was accepted because the window opened on the first send.
	WarnOpenOnFirstSend = "open_on_first_send"
	// WarnLenientJSON: the body was read only thanks to lenient_json.
	WarnLenientJSON = "lenient_json"
	// WarnMagicValue: a magic token or open_id decided the answer.
	WarnMagicValue = "magic_value"
	// WarnRule: a rule decided the answer.
	WarnRule = "rule"
)

// The phases of a fault (store.Entry.FaultPhase).
const (
	// PhaseBefore: the request never reached the service; nothing was counted.
	PhaseBefore = "before"
	// PhaseAfter: the service acted (and counted); its answer was lost or mangled on the way back.
	PhaseAfter = "after"
)

// faultPhase says where a fault strikes, by its kind: HTTP error pages, a reset, an empty reply
// and a timeout strike before the service; a truncated or malformed body, a wrong Content-Type, a
// drip and a delay alone strike after it.
func faultPhase(p fault.Plan) string {
	switch p.Kind {
	case config.FaultHTTP500, config.FaultHTTP502, config.FaultHTTP503, config.FaultHTTP504,
		config.FaultReset, config.FaultEmpty, config.FaultTimeout:
		return PhaseBefore
	}
	return PhaseAfter
}
