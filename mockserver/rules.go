package mockserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
)

// ruleSet is an immutable list of rules; replacing the rules swaps the whole set atomically. How
// often each rule was used is state, so it lives in the Store (counters of the app-less tenant,
// named rule:<index>, whose period is the set's generation): several replicas sharing a store
// count one "times" together, and a new set starts every count at zero.
type ruleSet struct {
	generation string
	rules      []*activeRule
}

type activeRule struct {
	config.Rule
	label   string
	counter string // the Store counter of this rule
}

type ruleInput struct {
	app, token, openID, msgType, content string
}

// newRuleSet labels rules and names the set's generation: a hash of the rules and, for a set
// replaced through the admin API, the replacement's number. Replicas that load the same file share
// the generation and so their counts; every replacement starts its counts at zero.
func (s *Server) newRuleSet(rules []config.Rule, replaced bool) *ruleSet {
	sum := sha256.Sum256(mustJSON(rules))
	gen := hex.EncodeToString(sum[:8])
	if replaced {
		gen += "-" + s.idPrefix + "-" + strconv.FormatUint(s.ruleGen.Add(1), 10)
	}
	rs := &ruleSet{generation: gen}
	for i, r := range rules {
		label := r.Name
		if label == "" {
			label = "rules[" + strconv.Itoa(i) + "]"
		}
		rs.rules = append(rs.rules, &activeRule{Rule: r, label: label, counter: "rule:" + strconv.Itoa(i)})
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

// match returns the first rule of the layer that matches and still has uses left, counting the use
// in the store atomically.
func (rs *ruleSet) match(ctx context.Context, store Store, in ruleInput, layer smartappmock.Layer) (*activeRule, error) {
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
		_, ok, err := store.TakeCount(ctx, NoApp, r.counter, rs.generation, r.Times)
		if err != nil {
			return nil, err
		}
		if ok {
			return r, nil
		}
	}
	return nil, nil
}

// ruleState is how a rule stands, for the admin API.
type ruleState struct {
	config.Rule
	Used int `json:"used"`
}

func (rs *ruleSet) states(ctx context.Context, store Store) ([]ruleState, error) {
	counters, err := store.Counters(ctx, NoApp)
	if err != nil {
		return nil, err
	}
	out := make([]ruleState, len(rs.rules))
	for i, r := range rs.rules {
		out[i] = ruleState{Rule: r.Rule}
		if c, ok := counters[r.counter]; ok && c.Window == rs.generation {
			out[i].Used = c.Count
		}
	}
	return out, nil
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
