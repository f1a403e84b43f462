package mockserver

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
)

// ruleSet is an immutable list of rules with their use counters; replacing the rules swaps the
// whole set atomically.
type ruleSet struct {
	rules []*activeRule
}

type activeRule struct {
	config.Rule
	label string
	used  atomic.Int64
}

type ruleInput struct {
	app, token, openID, msgType, content string
}

func newRuleSet(rules []config.Rule) *ruleSet {
	rs := &ruleSet{}
	for i, r := range rules {
		label := r.Name
		if label == "" {
			label = "rules[" + strconv.Itoa(i) + "]"
		}
		rs.rules = append(rs.rules, &activeRule{Rule: r, label: label})
	}
	return rs
}

func (rs *ruleSet) configRules() []config.Rule {
	out := make([]config.Rule, len(rs.rules))
	for i, r := range rs.rules {
		out[i] = r.Rule
	}
	return out
}

// match returns the first rule of the layer that matches and still has uses left, counting the use.
func (rs *ruleSet) match(in ruleInput, layer smartappmock.Layer) *activeRule {
	for _, r := range rs.rules {
		if (layer == smartappmock.LayerGateway) != (r.Answer.ErrorCode != nil) {
			continue
		}
		m := r.Match
		if (m.App != "" && m.App != in.app) || (m.Token != "" && m.Token != in.token) ||
			(m.OpenID != "" && m.OpenID != in.openID) || (m.MsgType != "" && m.MsgType != in.msgType) ||
			(m.Content != "" && m.Content != in.content) ||
			(m.ContentContains != "" && !strings.Contains(in.content, m.ContentContains)) {
			continue
		}
		if r.Times > 0 {
			for {
				n := r.used.Load()
				if n >= int64(r.Times) {
					break
				}
				if r.used.CompareAndSwap(n, n+1) {
					return r
				}
			}
			continue
		}
		r.used.Add(1)
		return r
	}
	return nil
}

// ruleState is how a rule stands, for the admin API.
type ruleState struct {
	config.Rule
	Used int64 `json:"used"`
}

func (rs *ruleSet) states() []ruleState {
	out := make([]ruleState, len(rs.rules))
	for i, r := range rs.rules {
		out[i] = ruleState{Rule: r.Rule, Used: r.used.Load()}
	}
	return out
}

// checkRuleCodes rejects rules whose code the catalogue of openapi.yaml does not know: the fake
// answers only documented codes.
func (s *Server) checkRuleCodes(rules []config.Rule) error {
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
