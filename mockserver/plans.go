package mockserver

import (
	"fmt"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver/fault"
	"github.com/smartappmock/smartappmock/store"
)

// RuleLabel is how a rule is named in the journal and the reason header (store.RuleLabel).
func RuleLabel(r config.Rule, i int) string { return store.RuleLabel(r, i) }

// CheckRules rejects rules whose code the catalogue of openapi.yaml does not know: the fake
// answers only documented codes.
func (s *Server) CheckRules(rules []config.Rule) error {
	cat := s.spec.Catalogue()
	for i, r := range rules {
		if r.Answer.Errno != nil {
			if _, ok := cat.BusinessMessage(*r.Answer.Errno); !ok {
				return fmt.Errorf("rules[%d].answer.errno: %d is not in the catalogue of openapi.yaml", i, *r.Answer.Errno)
			}
		}
		if r.Answer.ErrorCode != nil {
			if _, ok := cat.GatewayMessage(*r.Answer.ErrorCode); !ok {
				return fmt.Errorf("rules[%d].answer.error_code: %d is not in the catalogue of openapi.yaml", i, *r.Answer.ErrorCode)
			}
		}
	}
	return nil
}

// magicFaultPrefix starts the magic open_ids that inject a fault: fault_<kind> (fault_http_503,
// fault_reset, fault_timeout, ...) and fault_latency_<duration> (fault_latency_250ms).
const magicFaultPrefix = "fault_"

// magicFault reads a magic open_id: fault_<kind> or fault_latency_<duration>.
func magicFault(openID string) (fault.Plan, bool) {
	name := openID[len(magicFaultPrefix):]
	if d, ok := strings.CutPrefix(name, "latency_"); ok {
		v, err := time.ParseDuration(d)
		if err != nil || v <= 0 || v > config.MaxFaultLatency {
			return fault.Plan{}, false
		}
		return fault.Plan{Latency: v, Source: "magic:" + openID, Phase: config.DefaultFaultPhase(config.FaultNone)}, true
	}
	if k := config.FaultKind(name); k.Known(false) {
		return fault.Plan{Kind: k, Source: "magic:" + openID, Phase: config.DefaultFaultPhase(k)}, true
	}
	return fault.Plan{}, false
}
