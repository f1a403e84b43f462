package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/redisstore/internal/script"
)

// drawModulus is the modulus of store.Draw: the script gets the seed reduced by it, since a
// 64-bit seed does not fit a Lua number.
const drawModulus = 2147483647

// Rules implements store.Store: it reads the rules from Redis on every call.
func (s *Store) Rules(ctx context.Context) (store.RuleSet, error) {
	vs, err := s.rdb.HMGet(ctx, s.plans, "rules", "rules_v").Result()
	if err != nil {
		return store.RuleSet{}, wrap("rules", err)
	}
	var r store.RuleSet
	if b := toStr(vs[0]); b != "" {
		r.Rules = []byte(b)
	}
	r.Version, _ = strconv.ParseUint(toStr(vs[1]), 10, 64)
	return r, nil
}

// PutRules implements store.Store.
func (s *Store) PutRules(ctx context.Context, rules []byte) (store.RuleSet, error) {
	v, err := script.PutRules.Run(ctx, s.rdb, []string{s.plans, s.version}, rules).Int64()
	if err != nil {
		return store.RuleSet{}, wrap("put rules", err)
	}
	return store.RuleSet{Version: uint64(v), Rules: slices.Clone(rules)}, nil
}

// faults builds a FaultSet from its stored fields.
func faults(version any, global, apps any) (store.FaultSet, error) {
	var f store.FaultSet
	f.Version, _ = strconv.ParseUint(toStr(version), 10, 64)
	if b := toStr(global); b != "" {
		f.Global = []byte(b)
	}
	var m map[string]string
	if b := toStr(apps); b != "" {
		if err := json.Unmarshal([]byte(b), &m); err != nil {
			return store.FaultSet{}, err
		}
	}
	for app, b := range m {
		if b == "" {
			continue
		}
		if f.Apps == nil {
			f.Apps = map[string][]byte{}
		}
		f.Apps[app] = []byte(b)
	}
	return f, nil
}

// encodeAppFaults is the stored field of the apps' plans: JSON of app -> encoding.
func encodeAppFaults(apps map[string][]byte) (string, error) {
	if len(apps) == 0 {
		return "", nil
	}
	m := map[string]string{}
	for app, b := range apps {
		m[app] = string(b)
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// Faults implements store.Store: it reads the plans from Redis on every call.
func (s *Store) Faults(ctx context.Context) (store.FaultSet, error) {
	vs, err := s.rdb.HMGet(ctx, s.plans, "faults_v", "fglobal", "fapps").Result()
	if err != nil {
		return store.FaultSet{}, wrap("faults", err)
	}
	f, err := faults(vs[0], vs[1], vs[2])
	return f, wrap("faults", err)
}

// PutFaults implements store.Store.
func (s *Store) PutFaults(ctx context.Context, global []byte) (store.FaultSet, error) {
	xs, err := script.PutFaults.Run(ctx, s.rdb, []string{s.plans, s.version, s.counts}, global, "").Slice()
	if err != nil {
		return store.FaultSet{}, wrap("put faults", err)
	}
	f, err := faults(xs[0], string(global), xs[1])
	return f, wrap("put faults", err)
}

// RestartFaults implements store.Store.
func (s *Store) RestartFaults(ctx context.Context) (store.FaultSet, error) {
	xs, err := script.RestartFaults.Run(ctx, s.rdb, []string{s.plans, s.version, s.counts}).Slice()
	if err != nil {
		return store.FaultSet{}, wrap("restart faults", err)
	}
	f, err := faults(xs[0], xs[1], xs[2])
	return f, wrap("restart faults", err)
}

// planField names a plan's field in the fault counts hash.
func planField(id store.PlanID) string { return strconv.Itoa(id.Index) + ":" + id.App }

// TakeFault implements store.Store with store.DecideFault's rule in Lua.
func (s *Store) TakeFault(ctx context.Context, v uint64, plan store.PlanID, p store.FaultPolicy) (store.FaultTake, error) {
	xs, err := script.TakeFault.Run(ctx, s.rdb, []string{s.plans, s.counts},
		strconv.FormatUint(v, 10), planField(plan), p.Skip, p.Times, p.Steps,
		strconv.FormatFloat(p.Probability, 'g', -1, 64), p.Seed%drawModulus).Slice()
	if err != nil {
		return store.FaultTake{}, wrap("take fault", err)
	}
	if len(xs) != 3 {
		return store.FaultTake{}, fmt.Errorf("redisstore: take fault: unexpected answer %v", xs)
	}
	return store.FaultTake{Matched: int(toInt(xs[0])), Injected: toInt(xs[1]) == 1, Step: int(toInt(xs[2]))}, nil
}

// FaultCounts implements store.Store.
func (s *Store) FaultCounts(ctx context.Context, v uint64) (map[store.PlanID]store.FaultCount, error) {
	var ver *redis.StringCmd
	var all *redis.MapStringStringCmd
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error { // one slot: {plans}
		ver = p.HGet(ctx, s.plans, "faults_v")
		all = p.HGetAll(ctx, s.counts)
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return nil, wrap("fault counts", err)
	}
	out := map[store.PlanID]store.FaultCount{}
	if ver.Val() != strconv.FormatUint(v, 10) {
		return out, nil
	}
	for field, c := range all.Val() {
		idx, app, _ := strings.Cut(field, ":")
		m, inj, _ := strings.Cut(c, " ")
		i, err1 := strconv.Atoi(idx)
		mn, err2 := strconv.Atoi(m)
		in, err3 := strconv.Atoi(inj)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, wrap("fault counts", fmt.Errorf("plan %q: %w", field, err))
		}
		out[store.PlanID{App: app, Index: i}] = store.FaultCount{Matched: mn, Injected: in}
	}
	return out, nil
}
