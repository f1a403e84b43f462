package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/redisstore/internal/script"
)

// wireVerdict is a verdict the server decided, as script.Send reads it.
type wireVerdict struct {
	L  smartappmock.Layer `json:"l"`
	C  int                `json:"c"`
	R  string             `json:"r"`
	Ru string             `json:"ru,omitempty"`
	W  [][2]string        `json:"w,omitempty"`
}

// wirePre are the server's verdicts of a send (store.SendInput's TokenVerdict, Invalid, Magic,
// OpenIDs and leading Warnings), as script.Send reads them.
type wirePre struct {
	TV  *wireVerdict           `json:"tv,omitempty"`
	Inv *wireVerdict           `json:"inv,omitempty"`
	Mag *wireVerdict           `json:"mag,omitempty"`
	Oid map[string]wireVerdict `json:"oid,omitempty"`
	W   [][2]string            `json:"w,omitempty"`
	G   *wireGrant             `json:"g,omitempty"`
}

// wireGrant is store.Grant as script.Send reads it.
type wireGrant struct {
	W [][2]string            `json:"w,omitempty"`
	R map[string]wireVerdict `json:"r,omitempty"`
}

func wireWarnings(ws []store.Warning) [][2]string {
	var out [][2]string
	for _, w := range ws {
		out = append(out, [2]string{w.Kind, w.Message})
	}
	return out
}

func toWire(v *store.Verdict) *wireVerdict {
	if v == nil {
		return nil
	}
	return &wireVerdict{L: v.Layer, C: v.Code, R: v.Reason, Ru: v.Rule, W: wireWarnings(v.Warnings)}
}

// preArg is ARGV 10 of script.Send: "" when the server decided nothing ahead.
func preArg(in *store.SendInput) ([]byte, error) {
	if in.TokenVerdict == nil && in.Invalid == nil && in.Magic == nil && len(in.OpenIDs) == 0 && len(in.Warnings) == 0 && in.Grant == nil {
		return nil, nil
	}
	p := wirePre{TV: toWire(in.TokenVerdict), Inv: toWire(in.Invalid), Mag: toWire(in.Magic), W: wireWarnings(in.Warnings)}
	if g := in.Grant; g != nil {
		p.G = &wireGrant{W: wireWarnings(g.Warnings)}
		for app, v := range g.Refused {
			if p.G.R == nil {
				p.G.R = map[string]wireVerdict{}
			}
			p.G.R[app] = *toWire(&v)
		}
	}
	for app, v := range in.OpenIDs {
		if p.Oid == nil {
			p.Oid = map[string]wireVerdict{}
		}
		p.Oid[app] = *toWire(&v)
	}
	return json.Marshal(p)
}

// entryBufs recycles the buffers of encoded entries (about 0.5–1 KB each, one per send).
var entryBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledEntry is the largest entry buffer kept for reuse: a rare huge entry is left to the GC.
const maxPooledEntry = 16 << 10

// Send implements store.Store in one script (script.Send): one round trip per send, on Redis's
// clock (TIME) plus the app's offset, so the replicas' clocks never matter. A new app needs no
// second trip either: the script registers it.
func (s *Store) Send(ctx context.Context, in store.SendInput) (store.SendResult, error) {
	pre, err := preArg(&in)
	if err != nil {
		return store.SendResult{}, wrap("send", err)
	}
	e := in.Entry
	e.Seq = 0
	e.AppTime = in.Now // without an app, as SendSteps has it; the script writes an app's clock
	bp := entryBufs.Get().(*[]byte)
	entry, err := appendEntryJSON((*bp)[:0], &e)
	// The buffer is free again once Send returns: the batcher answers a call only after Redis
	// has read its arguments, or once it is sure they will never be sent.
	defer func() {
		if cap(entry) <= maxPooledEntry {
			*bp = entry[:0]
			entryBufs.Put(bp)
		}
	}()
	if err != nil {
		return store.SendResult{}, wrap("send", err)
	}
	args := s.sendArgs(&in, pre, entry)
	for range 3 {
		xs, err := s.sends.Do(ctx, s.sendScript(in.Warn), args)
		var rerr redis.Error
		if err != nil && errors.As(err, &rerr) && strings.HasSuffix(rerr.Error(), errUncompiled) {
			if err := s.compileFaults(ctx); err != nil {
				return store.SendResult{}, wrap("send", err)
			}
			continue
		}
		if err != nil {
			return store.SendResult{}, wrap("send", err)
		}
		return s.sendResult(&in, xs)
	}
	return store.SendResult{}, errors.New("redisstore: send: the fault plans keep changing while they are compiled")
}

// errUncompiled is what script.Send answers when the plans lack their compiled form.
const errUncompiled = "UNCOMPILED"

// compileFaults writes the compiled form of the fault plans in force (fcg, fca), for a store
// whose plans an earlier version wrote; it writes nothing when the plans changed meanwhile.
func (s *Store) compileFaults(ctx context.Context) error {
	f, err := s.Faults(ctx)
	if err != nil {
		return err
	}
	fcg, err := compiledGlobal(f.Global)
	if err != nil {
		return err
	}
	fca, err := compiledApps(f.Apps)
	if err != nil {
		return err
	}
	return script.CompileFaults.Run(ctx, s.rdb, []string{s.plans}, strconv.FormatUint(f.Version, 10), fcg, fca).Err()
}

// sendScript is script.Send with the constants of this store and of w.
func (s *Store) sendScript(w store.SendWarnings) *redis.Script {
	if sc, ok := s.sendScripts.Load(w); ok {
		return sc.(*redis.Script)
	}
	sc, _ := s.sendScripts.LoadOrStore(w, script.Send(s.sendConstants(w)))
	return sc.(*redis.Script)
}

// sendConstants are the constants of the send script of this store and w.
func (s *Store) sendConstants(w store.SendWarnings) script.SendConstants {
	return script.SendConstants{Prefix: s.opts.Prefix, Tokens: s.tokens, Plans: s.plans, Counts: s.counts, Seq: s.seq,
		Feed: s.feedKey, Registry: s.registry, JournalCap: s.opts.JournalCap, FeedBacklog: s.opts.FeedBacklog,
		MaxWindowsPerApp: s.opts.MaxWindowsPerApp, Warnings: w}
}

// sendArgs are the ARGV of script.Send.
func (s *Store) sendArgs(in *store.SendInput, pre, entry []byte) []any {
	_, tz := in.Now.Zone()
	return []any{in.Token, in.Match.OpenID, in.Match.MsgType, in.Match.Content, in.SandboxApp,
		in.Limits.Encoded(), pre, in.Notes, entry,
		script.SendFlags(in.Sandbox, in.BaiduShaped, in.MagicFault, in.Window.Duration, in.Window.MaxReplies, in.Window.OpenOnFirst, tz)}
}

// sendResult reads script.Send's answer to one send.
func (s *Store) sendResult(in *store.SendInput, xs []any) (store.SendResult, error) {
	const head, faultFields = 9, 5
	flags := int64(-1)
	if len(xs) >= head {
		flags = toInt(xs[8])
	}
	n := head
	if flags&2 != 0 {
		n += faultFields
	}
	if flags < 0 || len(xs) < n || (len(xs)-n)%2 != 0 {
		return store.SendResult{}, fmt.Errorf("redisstore: send: unexpected answer %v", xs)
	}
	r := store.SendResult{Seq: uint64(toInt(xs[0])), App: toStr(xs[1]), AppTime: in.Now, Stopped: flags&1 != 0}
	if r.App != "" {
		r.AppTime = time.Unix(toInt(xs[2]), toInt(xs[3])).In(in.Now.Location())
	}
	if !r.Stopped {
		r.Layer, r.Code, r.Reason, r.Rule = smartappmock.Layer(toStr(xs[4])), int(toInt(xs[5])), toStr(xs[6]), toStr(xs[7])
	}
	if flags&2 != 0 {
		pf := &store.PickedFault{Plan: store.PlanID{App: toStr(xs[9]), Index: int(toInt(xs[10]))},
			Take: store.FaultTake{Injected: true, Matched: int(toInt(xs[11])), Step: int(toInt(xs[12]))}}
		if err := json.Unmarshal([]byte(toStr(xs[13])), &pf.Fault); err != nil {
			return store.SendResult{}, wrap("send", err)
		}
		pf.Kind, pf.Latency = store.FaultStep(&pf.Fault, pf.Take)
		r.Fault = pf
	}
	for i := n; i+1 < len(xs); i += 2 {
		r.Warnings = append(r.Warnings, store.Warning{Kind: toStr(xs[i]), Message: toStr(xs[i+1])})
	}
	return r, nil
}

// wirePlan is a fault plan compiled for script.Send: its match, its policy (seeds reduced modulo
// store.Draw's modulus, since a 64-bit seed does not fit a Lua number), kind, sequence and
// latency in nanoseconds, the kinds it injects that strike before the service (" k1 k2 ", "-" for
// none: config.Fault.PhaseFor), and its JSON (answered when the plan picks a send).
type wirePlan struct {
	I     int                `json:"i"`
	M     config.Match       `json:"m"`
	Skip  int                `json:"skip"`
	Times int                `json:"times"`
	Steps int                `json:"steps"`
	P     float64            `json:"p"`
	SM    uint64             `json:"sm"`
	LM    uint64             `json:"lm"`
	Kind  config.FaultKind   `json:"kind,omitempty"`
	Seq   []config.FaultKind `json:"seq,omitempty"`
	LMin  int64              `json:"lmin"`
	LMax  int64              `json:"lmax"`
	BK    string             `json:"bk"`
	Raw   string             `json:"raw"`
}

// compilePlans renders fault plans for script.Send ("" for none).
func compilePlans(fs []config.Fault) ([]wirePlan, error) {
	out := make([]wirePlan, 0, len(fs))
	for i, f := range fs {
		raw, err := json.Marshal(f)
		if err != nil {
			return nil, err
		}
		bk := " "
		for _, k := range append([]config.FaultKind{f.Kind}, f.Sequence...) {
			if f.PhaseFor(k) == config.FaultPhaseBefore {
				name := string(k)
				if name == "" {
					name = "-"
				}
				bk += name + " "
			}
		}
		out = append(out, wirePlan{I: i, M: f.Match, Skip: f.Skip, Times: f.Times, Steps: len(f.Sequence),
			P: f.Probability, SM: f.Seed % drawModulus, LM: store.LatencySeed(f.Seed) % drawModulus,
			Kind: f.Kind, Seq: f.Sequence, LMin: int64(f.Latency.Min), LMax: int64(f.Latency.Max), BK: bk, Raw: string(raw)})
	}
	return out, nil
}

// compiledGlobal renders the top-level plans for the plans hash's field fcg.
func compiledGlobal(fs []config.Fault) (string, error) {
	if len(fs) == 0 {
		return "", nil
	}
	ps, err := compilePlans(fs)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(ps)
	return string(b), err
}

// compiledApps renders the apps' plans for the plans hash's field fca.
func compiledApps(apps map[string][]config.Fault) (string, error) {
	if len(apps) == 0 {
		return "", nil
	}
	out := map[string][]wirePlan{}
	for app, fs := range apps {
		if len(fs) == 0 {
			continue
		}
		ps, err := compilePlans(fs)
		if err != nil {
			return "", err
		}
		out[app] = ps
	}
	if len(out) == 0 {
		return "", nil
	}
	b, err := json.Marshal(out)
	return string(b), err
}
