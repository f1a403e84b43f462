package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/redisstore/internal/script"
)

// drawModulus is the modulus of store.Draw: the script gets the seed reduced by it, since a
// 64-bit seed does not fit a Lua number.
const drawModulus = 2147483647

// Rules implements store.Store: it reads the rules from Redis on every call.
func (s *Store) Rules(ctx context.Context) (store.Rules, error) {
	vs, err := s.rdb.HMGet(ctx, s.plans, "rules", "rules_v").Result()
	if err != nil {
		return store.Rules{}, wrap("rules", err)
	}
	var r store.Rules
	if err := decodeJSON(vs[0], &r.Rules); err != nil {
		return store.Rules{}, wrap("rules", err)
	}
	r.Version, _ = strconv.ParseUint(toStr(vs[1]), 10, 64)
	return r, nil
}

// decodeJSON decodes an HMGET value (nil or "": nothing) into v.
func decodeJSON(x any, v any) error {
	b := toStr(x)
	if b == "" {
		return nil
	}
	return json.Unmarshal([]byte(b), v)
}

// PutRules implements store.Store.
func (s *Store) PutRules(ctx context.Context, rules []config.Rule) (store.Rules, error) {
	b, err := json.Marshal(rules)
	if err != nil {
		return store.Rules{}, wrap("put rules", err)
	}
	v, err := script.PutRules.Run(ctx, s.rdb, []string{s.plans, s.version}, b).Int64()
	if err != nil {
		return store.Rules{}, wrap("put rules", err)
	}
	out := store.Rules{Version: uint64(v)}
	if err := json.Unmarshal(b, &out.Rules); err != nil { // a copy, as the store holds it
		return store.Rules{}, wrap("put rules", err)
	}
	return out, nil
}

// faults builds Faults from their stored JSON.
func faults(version any, global, apps any) (store.Faults, error) {
	var f store.Faults
	f.Version, _ = strconv.ParseUint(toStr(version), 10, 64)
	if err := decodeJSON(global, &f.Global); err != nil {
		return store.Faults{}, err
	}
	if err := decodeJSON(apps, &f.Apps); err != nil {
		return store.Faults{}, err
	}
	if len(f.Apps) == 0 {
		f.Apps = nil
	}
	return f, nil
}

// Faults implements store.Store: it reads the plans from Redis on every call.
func (s *Store) Faults(ctx context.Context) (store.Faults, error) {
	vs, err := s.rdb.HMGet(ctx, s.plans, "faults_v", "fglobal", "fapps").Result()
	if err != nil {
		return store.Faults{}, wrap("faults", err)
	}
	f, err := faults(vs[0], vs[1], vs[2])
	return f, wrap("faults", err)
}

// PutFaults implements store.Store.
func (s *Store) PutFaults(ctx context.Context, global []config.Fault) (store.Faults, error) {
	b, err := json.Marshal(global)
	if err != nil {
		return store.Faults{}, wrap("put faults", err)
	}
	fcg, err := compiledGlobal(global)
	if err != nil {
		return store.Faults{}, wrap("put faults", err)
	}
	xs, err := script.PutFaults.Run(ctx, s.rdb, []string{s.plans, s.version, s.counts}, b, fcg).Slice()
	if err != nil {
		return store.Faults{}, wrap("put faults", err)
	}
	f, err := faults(xs[0], string(b), xs[1])
	return f, wrap("put faults", err)
}

// RestartFaults implements store.Store.
func (s *Store) RestartFaults(ctx context.Context) (store.Faults, error) {
	xs, err := script.RestartFaults.Run(ctx, s.rdb, []string{s.plans, s.version, s.counts}).Slice()
	if err != nil {
		return store.Faults{}, wrap("restart faults", err)
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
