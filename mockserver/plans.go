package mockserver

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver/fault"
	"github.com/smartappmock/smartappmock/store"
)

// matchInput is what rules and fault plans match a send on.
type matchInput struct {
	app, token, openID, msgType, content string
}

func (in matchInput) matches(m config.Match) bool {
	return (m.App == "" || m.App == in.app) && (m.Token == "" || m.Token == in.token) &&
		(m.OpenID == "" || m.OpenID == in.openID) && (m.MsgType == "" || m.MsgType == in.msgType) &&
		(m.Content == "" || m.Content == in.content) &&
		(m.ContentContains == "" || strings.Contains(in.content, m.ContentContains))
}

// RuleLabel is how a rule is named in the journal and the reason header.
func RuleLabel(r config.Rule, i int) string {
	if r.Name != "" {
		return r.Name
	}
	return fmt.Sprintf("rules[%d]", i)
}

// matchRule returns the decision of the first rule of the layer that matches and still has uses
// left; the use is counted in the store (shared by every server on it).
func (s *Server) matchRule(r *http.Request, rules store.Rules, in matchInput, layer smartappmock.Layer) (Decision, bool) {
	for i, rule := range rules.Rules {
		if (layer == smartappmock.LayerGateway) != (rule.Answer.ErrorCode != nil) || !in.matches(rule.Match) {
			continue
		}
		_, ok, err := s.store.TakeCount(r.Context(), store.NoApp, store.RuleCounter(i), store.RulePeriod(rules.Version), rule.Times)
		if err != nil {
			return storeDown(err), true
		}
		if !ok {
			continue
		}
		label := RuleLabel(rule, i)
		d := Decision{Layer: layer, Reason: "rule " + label, Rule: label}
		if rule.Answer.ErrorCode != nil {
			d.Code = *rule.Answer.ErrorCode
		} else {
			d.Code = *rule.Answer.Errno
		}
		return d, true
	}
	return Decision{}, false
}

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

// latencySalt separates the draws of a plan's latency from those of its probability.
const latencySalt = 0x5bd1e995

// pickFault decides whether a send is faulted: a magic open_id first, then the app's fault plans,
// then the top-level ones. Each matching plan counts the send in the store, so "the next 2 sends"
// means 2 across every server on the store. A store error leaves the send unfaulted (and logged).
func (s *Server) pickFault(ctx context.Context, in matchInput) (fault.Plan, bool) {
	if s.cfg.Policy.MagicValues && strings.HasPrefix(in.openID, magicFaultPrefix) {
		if plan, ok := magicFault(in.openID); ok {
			return plan, true
		}
	}
	fs, err := s.store.Faults(ctx)
	if err != nil {
		s.log.Error("fault plans unavailable", "err", err)
		return fault.Plan{}, false
	}
	if fs.Empty() {
		return fault.Plan{}, false
	}
	if in.app != "" {
		if plan, ok := s.takeFault(ctx, fs, in.app, fs.Apps[in.app], in); ok {
			return plan, true
		}
	}
	return s.takeFault(ctx, fs, "", fs.Global, in)
}

func (s *Server) takeFault(ctx context.Context, fs store.Faults, app string, plans []config.Fault, in matchInput) (fault.Plan, bool) {
	where := "faults"
	if app != "" {
		where = s.AppFaultsWhere(app)
	}
	for i, f := range plans {
		if !in.matches(f.Match) {
			continue
		}
		tk, err := s.store.TakeFault(ctx, fs.Version, store.PlanID{App: app, Index: i}, store.FaultPolicy{
			Skip: f.Skip, Times: f.Times, Steps: len(f.Sequence), Probability: f.Probability, Seed: f.Seed,
		})
		if err != nil {
			s.log.Error("fault plan unavailable", "plan", f.Label(where, i), "err", err)
			return fault.Plan{}, false
		}
		if !tk.Injected {
			continue
		}
		kind, step := f.Kind, ""
		if len(f.Sequence) > 0 {
			kind = f.Sequence[tk.Step]
			step = fmt.Sprintf(", step %d of %d", tk.Step+1, len(f.Sequence))
		}
		lat := f.Latency.Min
		if f.Latency.Max > f.Latency.Min {
			span := float64(f.Latency.Max - f.Latency.Min + 1)
			lat += time.Duration(store.Draw(f.Seed^latencySalt, uint64(tk.Matched)) * span)
		}
		if kind == config.FaultNone && lat == 0 {
			continue
		}
		return fault.Plan{Kind: kind, Latency: lat, Source: f.Label(where, i) + step,
			DripInterval: time.Duration(f.DripInterval), DripBytes: f.DripBytes, Phase: f.PhaseFor(kind)}, true
	}
	return fault.Plan{}, false
}

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
