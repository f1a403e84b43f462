package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock/baidupush"
)

// Push is an app's push configuration (apps[].push, and the body of PUT
// /__admin/apps/{app}/push): where and how the fake pushes what a user writes to the app's bot
// (Baidu's 消息推送), with the push faults to apply to every push of the app.
//
// Its settings are baidupush.Config's, embedded rather than mirrored, so that the file, the admin
// API and the wire protocol read the same fields with one validator: config imports baidupush
// (a leaf beside tlsca that imports nothing of this module), never the other way round.
type Push struct {
	baidupush.Config `yaml:",inline"`
	// Faults apply to every push of the app, in order (see PushFault).
	Faults []PushFault `yaml:"faults,omitempty" json:"faults,omitempty"`
}

// The kinds of push fault (PushFault.Kind), named as push names its faults.
const (
	// PushFaultDuplicate delivers an acknowledged push once more (same MsgId, same bytes).
	PushFaultDuplicate = baidupush.FaultDuplicate
	// PushFaultDelay waits PushFault.Delay before the first attempt.
	PushFaultDelay = baidupush.FaultDelay
	// PushFaultWrongSignature corrupts signature and msg_signature on every attempt.
	PushFaultWrongSignature = baidupush.FaultWrongSignature
	// PushFaultOutOfOrder delivers the messages of one call last to first.
	PushFaultOutOfOrder = baidupush.FaultOutOfOrder
)

// PushFaultKinds lists the kinds of push fault.
var PushFaultKinds = []string{PushFaultDuplicate, PushFaultDelay, PushFaultWrongSignature, PushFaultOutOfOrder}

// PushFault is one push fault plan: a kind, for delay how long, and which of the app's pushes it
// strikes (Skip, Times), counted per app in the store like a send fault's plan.
type PushFault struct {
	// Kind is duplicate, delay, wrong_signature or out_of_order.
	Kind string `yaml:"kind" json:"kind"`
	// Delay is the wait of a delay fault (at most baidupush.MaxTimeout).
	Delay Duration `yaml:"delay,omitempty" json:"delay,omitempty"`
	// Skip lets the app's first Skip pushes (calls of "the user writes") through.
	Skip int `yaml:"skip,omitempty" json:"skip,omitempty"`
	// Times caps how many pushes the plan strikes (0: every one after Skip).
	Times int `yaml:"times,omitempty" json:"times,omitempty"`
}

// PushOptions returns the push options of the faults, in order.
func PushOptions(faults []PushFault) []baidupush.Option {
	var out []baidupush.Option
	for _, f := range faults {
		switch f.Kind {
		case PushFaultDuplicate:
			out = append(out, baidupush.Duplicate())
		case PushFaultDelay:
			out = append(out, baidupush.Delay(time.Duration(f.Delay)))
		case PushFaultWrongSignature:
			out = append(out, baidupush.WrongSignature())
		case PushFaultOutOfOrder:
			out = append(out, baidupush.OutOfOrder())
		}
	}
	return out
}

// Check reports every problem of p, for an app whose client_id is clientID (the default trailing
// id of encrypted pushes), one error per problem, each naming its field under path ("push",
// "apps[0].push").
func (p Push) Check(path, clientID string) Errors {
	var errs Errors
	if err := p.Config.WithDefaults(clientID).Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			field, reason, ok := strings.Cut(line, ": ")
			if !ok {
				field, reason = "", line
			}
			errs = append(errs, &Error{Path: strings.TrimSuffix(path+"."+field, "."), Reason: reason})
		}
	}
	for i, f := range p.Faults {
		fp := fmt.Sprintf("%s.faults[%d]", path, i)
		if f.Skip < 0 || f.Times < 0 {
			errs = append(errs, &Error{Path: fp, Reason: "skip and times must not be negative"})
		}
		switch f.Kind {
		case PushFaultDelay:
			if f.Delay <= 0 || time.Duration(f.Delay) > baidupush.MaxTimeout {
				errs = append(errs, &Error{Path: fp + ".delay", Reason: fmt.Sprintf("must be above 0 and at most %s", baidupush.MaxTimeout)})
			}
		case PushFaultDuplicate, PushFaultWrongSignature, PushFaultOutOfOrder:
			if f.Delay != 0 {
				errs = append(errs, &Error{Path: fp + ".delay", Reason: "only a delay fault takes a delay"})
			}
		default:
			errs = append(errs, &Error{Path: fp + ".kind", Reason: fmt.Sprintf("%q is not a push fault (want %s)", f.Kind, strings.Join(PushFaultKinds, ", "))})
		}
	}
	return errs
}

// Redacted returns p with its token and key hidden, as the admin API shows it.
func (p Push) Redacted() Push {
	if p.Token != "" {
		p.Token = "<redacted>"
	}
	if p.EncodingAESKey != "" {
		p.EncodingAESKey = "<redacted>"
	}
	return p
}
