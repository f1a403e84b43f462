package mockserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver/fault"
	"github.com/smartappmock/smartappmock/store"
)

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

// RuleCounter names the store.NoApp counter of the i-th rule's uses.
func RuleCounter(i int) string { return "rule:" + strconv.Itoa(i) }

// RulePeriod names the counter period of a rule set's version: a new set counts from zero.
func RulePeriod(v uint64) string { return "v" + strconv.FormatUint(v, 10) }

// RuleLabel is how a rule is named in the journal and the reason header.
func RuleLabel(r config.Rule, i int) string {
	if r.Name != "" {
		return r.Name
	}
	return "rules[" + strconv.Itoa(i) + "]"
}

// Rules are the rules in force, with the version the store gave them.
type Rules struct {
	Version uint64
	Rules   []config.Rule
}

// Faults are the fault plans in force: the top-level plans and each configured app's, with the
// version the store gave them (counts are kept per version).
type Faults struct {
	Version uint64
	Global  []config.Fault
	Apps    map[string][]config.Fault
}

// encodePlans is how the core hands rules and fault plans to a store, which keeps them without
// reading them: JSON, and nothing for none (so that a store tells "no plan" without decoding).
func encodePlans[T any](list []T) []byte {
	if len(list) == 0 {
		return nil
	}
	b, err := json.Marshal(list)
	if err != nil {
		panic("mockserver: encoding plans: " + err.Error()) // plain structs: cannot fail
	}
	return b
}

// decodePlans reads what encodePlans wrote.
func decodePlans[T any](what string, b []byte) ([]T, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var out []T
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("the store's %s: %w", what, err)
	}
	return out, nil
}

func decodeRules(rs store.RuleSet) (Rules, error) {
	rules, err := decodePlans[config.Rule]("rules", rs.Rules)
	return Rules{Version: rs.Version, Rules: rules}, err
}

func decodeFaults(fs store.FaultSet) (Faults, error) {
	out := Faults{Version: fs.Version}
	var err error
	if out.Global, err = decodePlans[config.Fault]("fault plans", fs.Global); err != nil {
		return Faults{}, err
	}
	for app, b := range fs.Apps {
		plans, err := decodePlans[config.Fault]("fault plans of app "+app, b)
		if err != nil {
			return Faults{}, err
		}
		if len(plans) > 0 {
			if out.Apps == nil {
				out.Apps = map[string][]config.Fault{}
			}
			out.Apps[app] = plans
		}
	}
	return out, nil
}

// Rules returns the rules in force.
func (s *Server) Rules(ctx context.Context) (Rules, error) {
	rs, err := s.store.Rules(ctx)
	if err != nil {
		return Rules{}, err
	}
	return decodeRules(rs)
}

// PutRules replaces every rule (the caller checks them with CheckRules); their use counts start
// at zero.
func (s *Server) PutRules(ctx context.Context, rules []config.Rule) (Rules, error) {
	rs, err := s.store.PutRules(ctx, encodePlans(rules))
	if err != nil {
		return Rules{}, err
	}
	return decodeRules(rs)
}

// Faults returns the fault plans in force.
func (s *Server) Faults(ctx context.Context) (Faults, error) {
	fs, err := s.store.Faults(ctx)
	if err != nil {
		return Faults{}, err
	}
	return decodeFaults(fs)
}

// PutFaults replaces the top-level fault plans (the apps' stay); counts start again.
func (s *Server) PutFaults(ctx context.Context, global []config.Fault) (Faults, error) {
	fs, err := s.store.PutFaults(ctx, encodePlans(global))
	if err != nil {
		return Faults{}, err
	}
	return decodeFaults(fs)
}

// RestartFaults keeps the fault plans and starts their counts and draws again.
func (s *Server) RestartFaults(ctx context.Context) (Faults, error) {
	fs, err := s.store.RestartFaults(ctx)
	if err != nil {
		return Faults{}, err
	}
	return decodeFaults(fs)
}

// planCache is the rules and fault plans of one pair of versions, decoded once per server: a
// send reads the versions in force in its Lookup and decodes again only when one changed.
type planCache struct {
	rulesVersion uint64
	rules        []config.Rule
	index        [2]ruleIndex // the rules of the gateway layer [0] and the business layer [1]
	faults       Faults
}

// ruleIndex finds the rules of one layer that may match a send without looking at the others:
// those that name an open_id are found by it, so a sandbox holding thousands of per-user rules
// costs a send a map lookup, not a walk through every rule.
type ruleIndex struct {
	byOpenID map[string][]int // rules that name an open_id, by it, in order
	rest     []int            // rules that name none, in order
}

// indexRules builds the index of each layer.
func indexRules(rules []config.Rule) [2]ruleIndex {
	var ix [2]ruleIndex
	for i := range rules {
		l := &ix[layerIndex(rules[i].Answer.ErrorCode == nil)]
		if id := rules[i].Match.OpenID; id != "" {
			if l.byOpenID == nil {
				l.byOpenID = map[string][]int{}
			}
			l.byOpenID[id] = append(l.byOpenID[id], i)
		} else {
			l.rest = append(l.rest, i)
		}
	}
	return ix
}

func layerIndex(business bool) int {
	if business {
		return 1
	}
	return 0
}

// candidates calls f with the index of every rule of the layer that may match a send to
// openID, in the rules' order, until f returns false.
func (ix *ruleIndex) candidates(openID string, f func(i int) bool) {
	a, b := ix.byOpenID[openID], ix.rest
	for len(a) > 0 || len(b) > 0 {
		var i int
		if len(b) == 0 || (len(a) > 0 && a[0] < b[0]) {
			i, a = a[0], a[1:]
		} else {
			i, b = b[0], b[1:]
		}
		if !f(i) {
			return
		}
	}
}

func (p *planCache) faultsEmpty() bool { return len(p.faults.Global) == 0 && len(p.faults.Apps) == 0 }

// plansCache holds the newest planCache of a server.
type plansCache struct {
	cur atomic.Pointer[planCache]
}

// get returns the plans of rules version rv and fault version fv, from the store when the cache
// holds another version.
func (c *plansCache) get(ctx context.Context, st store.Store, rv, fv uint64) (*planCache, error) {
	old := c.cur.Load()
	if old != nil && old.rulesVersion == rv && old.faults.Version == fv {
		return old, nil
	}
	p := &planCache{}
	if old != nil && old.rulesVersion == rv {
		p.rulesVersion, p.rules, p.index = old.rulesVersion, old.rules, old.index
	} else {
		rs, err := st.Rules(ctx)
		if err != nil {
			return nil, err
		}
		r, err := decodeRules(rs)
		if err != nil {
			return nil, err
		}
		p.rulesVersion, p.rules, p.index = r.Version, r.Rules, indexRules(r.Rules)
	}
	if old != nil && old.faults.Version == fv {
		p.faults = old.faults
	} else {
		fs, err := st.Faults(ctx)
		if err != nil {
			return nil, err
		}
		if p.faults, err = decodeFaults(fs); err != nil {
			return nil, err
		}
	}
	c.cur.Store(p)
	return p, nil
}

// pickFault counts the send toward the matching fault plans: the app's, then the top-level
// ones; the first that injects picks the send. A plan whose step is "none" with no latency lets
// the send through (it still counted).
func (s *Server) pickFault(ctx context.Context, in *send, plans *planCache, app string) (*fault.Plan, error) {
	if app != "" {
		if p, err := s.takeFaults(ctx, in, plans.faults.Version, app, app, plans.faults.Apps[app]); p != nil || err != nil {
			return p, err
		}
	}
	return s.takeFaults(ctx, in, plans.faults.Version, app, "", plans.faults.Global)
}

// takeFaults counts the send of app toward the matching plans of owner ("": the top-level ones).
func (s *Server) takeFaults(ctx context.Context, in *send, v uint64, app, owner string, list []config.Fault) (*fault.Plan, error) {
	for i := range list {
		f := &list[i]
		if !in.matches(app, &f.Match) {
			continue
		}
		tk, err := s.store.TakeFault(ctx, v, store.PlanID{App: owner, Index: i}, store.FaultPolicy{
			Skip: f.Skip, Times: f.Times, Steps: len(f.Sequence), Probability: f.Probability, Seed: f.Seed,
		})
		if err != nil {
			return nil, err
		}
		if !tk.Injected {
			continue
		}
		kind, lat := faultStep(f, tk)
		if kind == config.FaultNone && lat == 0 {
			continue
		}
		where := "faults"
		if owner != "" {
			where = s.AppFaultsWhere(owner)
		}
		source := f.Label(where, i)
		if n := len(f.Sequence); n > 0 {
			source += fmt.Sprintf(", step %d of %d", tk.Step+1, n)
		}
		return &fault.Plan{Kind: kind, Latency: lat, Source: source, DripInterval: time.Duration(f.DripInterval),
			DripBytes: f.DripBytes, Phase: f.PhaseFor(kind)}, nil
	}
	return nil, nil
}

// latencySalt separates the draws of a plan's latency from those of its probability.
const latencySalt = 0x5bd1e995

// faultStep returns the kind and latency of a plan's injection: the sequence's step (or the
// plan's kind) and the latency drawn for its matched count.
func faultStep(f *config.Fault, t store.FaultTake) (config.FaultKind, time.Duration) {
	kind := f.Kind
	if len(f.Sequence) > 0 {
		kind = f.Sequence[t.Step]
	}
	return kind, faultLatency(f, t.Matched)
}

// faultLatency returns the latency of a plan for its matched-th matching send: Min, plus a draw
// within the range.
func faultLatency(f *config.Fault, matched int) time.Duration {
	lat := f.Latency.Min
	if f.Latency.Max > f.Latency.Min {
		span := float64(f.Latency.Max - f.Latency.Min + 1)
		lat += time.Duration(store.Draw(f.Seed^latencySalt, uint64(matched)) * span)
	}
	return lat
}
