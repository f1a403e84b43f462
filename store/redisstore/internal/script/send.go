package script

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock/store"
)

// luaClock are the time helpers of the send script. Times are (seconds, nanoseconds) pairs of
// integers, exact in Lua's doubles.
const luaClock = `
-- splitns splits a decimal count of nanoseconds (int64, too big for a double) into sec, nsec.
local function splitns(v)
  local neg = string.sub(v, 1, 1) == '-'
  if neg then v = string.sub(v, 2) end
  local n = #v
  local sec = tonumber(string.sub(v, 1, n - 9)) or 0
  local nsec = tonumber(string.sub(v, math.max(1, n - 8))) or 0
  if neg then
    sec, nsec = -sec, -nsec
    if nsec < 0 then sec, nsec = sec - 1, nsec + 1000000000 end
  end
  return sec, nsec
end
local function tadd(s1, n1, s2, n2)
  local s, n = s1 + s2, n1 + n2
  if n >= 1000000000 then s, n = s + 1, n - 1000000000 end
  return s, n
end
local function tsub(s1, n1, s2, n2)
  local s, n = s1 - s2, n1 - n2
  if n < 0 then s, n = s - 1, n + 1000000000 end
  return s, n
end
`

// luaCivil defines civil(), which sets ymd and rfc3339: dates use Howard Hinnant's
// civil-from-days algorithm. Only the sends whose reason shows a date (or that count a daily
// limit) call it, so the others make none of these closures.
const luaCivil = `
local ymd, rfc3339
local function civil()
  if ymd then return end
  local function days2civil(days)
    local z = days + 719468
    local era = math.floor(z / 146097)
    local doe = z - era * 146097
    local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
    local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
    local mp = math.floor((5 * doy + 2) / 153)
    local d = doy - math.floor((153 * mp + 2) / 5) + 1
    local m = mp + 3
    if mp >= 10 then m = mp - 9 end
    local y = yoe + era * 400
    if m <= 2 then y = y + 1 end
    return y, m, d
  end
  -- ymd renders the date of a Unix second: "2006-01-02", and the seconds into that day.
  ymd = function(sec)
    local days = math.floor(sec / 86400)
    local y, m, d = days2civil(days)
    return string.format('%04d-%02d-%02d', y, m, d), sec - days * 86400
  end
  -- rfc3339 is Go's time.RFC3339 (RFC3339Nano when nano) of (sec, nsec) at the zone offset tz.
  rfc3339 = function(sec, nsec, tz, nano)
    local date, s = ymd(sec + tz)
    local out = date .. string.format('T%02d:%02d:%02d', math.floor(s / 3600), math.floor(s % 3600 / 60), s % 60)
    if nano and nsec > 0 then
      out = out .. '.' .. (string.gsub(string.format('%09d', nsec), '0+$', ''))
    end
    if tz == 0 then return out .. 'Z' end
    local sign = '+'
    if tz < 0 then sign, tz = '-', -tz end
    return out .. string.format('%s%02d:%02d', sign, math.floor(tz / 3600), math.floor(tz % 3600 / 60))
  end
end
`

// luaParse3339 reads Go's RFC3339Nano: the send script defines it only for a token that expires.
const luaParse3339 = `
local function civil2days(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
end
-- parse3339 reads Go's RFC3339Nano (JSON's time): sec, nsec.
local function parse3339(t)
  local y, mo, d, h, mi, s, rest = string.match(t, '^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)(.*)$')
  local nsec = 0
  local frac = string.match(rest, '^%.(%d+)')
  if frac then
    nsec = tonumber(string.sub(frac .. '000000000', 1, 9))
    rest = string.sub(rest, #frac + 2)
  end
  local off = 0
  if rest ~= 'Z' then
    local sg, oh, om = string.match(rest, '^([+-])(%d+):(%d+)$')
    off = tonumber(oh) * 3600 + tonumber(om) * 60
    if sg == '-' then off = -off end
  end
  local days = civil2days(tonumber(y), tonumber(mo), tonumber(d))
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s) - off, nsec
end
`

// CompileFaults stores the compiled plans (fcg, fca) of the fault version they were compiled
// from, unless the plans changed since: KEYS plans; ARGV version, fcg, fca.
var CompileFaults = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'faults_v') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'fcg', ARGV[2], 'fca', ARGV[3])
return 1
`)

// Send is store.SendSteps in one script, for one send or several: one round trip per send at
// most, fewer when concurrent sends share a run (internal/batch). The sends of a run are
// decided in turn, each as if it ran alone; the plans are read once per run. Each block names
// the Go function whose order and wording it repeats (store/send.go; the window is
// Memory.TakeReply, the counters TakeCount, a fault plan DecideFault and FaultStep); the
// conformance suite's Send table pins that both decide alike.
//
// Its keys are written into its text (sendKeys), not passed in KEYS: it computes the app's keys
// itself anyway (the app is known only once the token is read), so this script, like Append,
// needs a single Redis, not a Cluster.
//
// The script's text starts with the constants of its store and server (SendHeader): the key
// prefix P, the global keys K_TOKENS, K_PLANS, K_COUNTS (fault counts), K_SEQ, K_FEED, K_REG
// (the app registry), the journal cap JCAP, the feed cap FCAP, the most windows an app keeps
// MAXWIN, ARITY (SendArity), and the kind and message of the warnings (store.SendWarnings)
// UNISSUED_K/_M, UNCONF_K/_M, RULE_K/_M and FIRST_K/_M. Constants cost nothing per run, while
// every key and argument is copied and hashed into a Lua string on every run.
//
// ARGV, SendArity of them per send, one send after the other: 1 token, 2 open_id, 3 msg_type,
// 4 content, 5 sandbox app id, 6 the limit table (store.LimitTable.Encoded), 7 the server's
// verdicts as JSON ("" none: see redisstore's wirePre), 8 notes, 9 the entry without its
// decision (JSON), 10 the server's numbers and flags in one argument (SendFlags): sandbox
// (0|1), Baidu-shaped (0|1), the magic fault's phase ("-" none), window duration sec and nsec,
// max replies, open on first (0|1), the zone offset of reasons' times (seconds).
//
// Answers the error UNCOMPILED (having written nothing) when the plans lack their compiled form,
// else one reply per send, in order: the Redis error that stopped the send (each send runs in a
// protected call, so the sends after it still run), or {seq (0: not journaled), app, app sec,
// app nsec, layer, code, reason, rule, flags (1 stopped, 2 a fault plan picked the send), then
// when a plan picked it fault owner, fault index, matched, step, fault JSON, then warnings as
// kind, message pairs}. The sends of a run share one instant of Redis's clock. A journaled send's decision
// is in its stream entry's fields d ("layer code sec nsec zone"), r, ru, a and w (redisstore's
// decodeDecision).
func Send(c SendConstants) *redis.Script {
	return redis.NewScript(SendHeader(c) + sendSrc)
}

// SendArity is how many ARGV each send of Send takes.
const SendArity = 10

// SendConstants are the constants of a send script: those of its store and of its server.
type SendConstants struct {
	Prefix                                     string // every key starts with it
	Tokens, Plans, Counts, Seq, Feed, Registry string // the global keys (redisstore's package doc)
	JournalCap, FeedBacklog, MaxWindowsPerApp  int
	Warnings                                   store.SendWarnings
}

// SendFlags is ARGV 10 of Send.
func SendFlags(sandbox, baiduShaped bool, magic string, window time.Duration, maxReplies int, openOnFirst bool, zoneOffset int) string {
	if magic == "" {
		magic = "-"
	}
	return bit(sandbox) + " " + bit(baiduShaped) + " " + magic + " " + strconv.FormatInt(int64(window/time.Second), 10) + " " +
		strconv.FormatInt(int64(window%time.Second), 10) + " " + strconv.Itoa(maxReplies) + " " + bit(openOnFirst) + " " + strconv.Itoa(zoneOffset)
}

func bit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// SendHeader declares the constants of the send script (the text Send puts before it).
func SendHeader(c SendConstants) string {
	w := c.Warnings
	var b strings.Builder
	b.WriteString("local K_TOKENS, K_PLANS, K_COUNTS, K_SEQ, K_FEED, K_REG = " + LuaString(c.Tokens) + ", " + LuaString(c.Plans) + ", " +
		LuaString(c.Counts) + ", " + LuaString(c.Seq) + ", " + LuaString(c.Feed) + ", " + LuaString(c.Registry) + "\n")
	b.WriteString("local ARITY = " + strconv.Itoa(SendArity) + "\n")
	b.WriteString("local P, JCAP, FCAP, MAXWIN = " + LuaString(c.Prefix) + ", '" + strconv.Itoa(c.JournalCap) +
		"', '" + strconv.Itoa(c.FeedBacklog) + "', " + strconv.Itoa(c.MaxWindowsPerApp) + "\n")
	for _, c := range []struct {
		name string
		w    store.Warning
	}{{"UNISSUED", w.UnissuedToken}, {"UNCONF", w.UnconfiguredClient}, {"RULE", w.Rule}, {"FIRST", w.OpenOnFirstSend}} {
		b.WriteString("local " + c.name + "_K, " + c.name + "_M = " + LuaString(c.w.Kind) + ", " + LuaString(c.w.Message) + "\n")
	}
	return b.String()
}

// LuaString is s as a Lua string literal: every byte other than printable ASCII, a quote or a
// backslash as a three-digit decimal escape (three digits, so a digit after it stays a digit).
func LuaString(s string) string {
	b := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			b = fmt.Appendf(b, "\\%03d", c)
		} else {
			b = append(b, c)
		}
	}
	return string(append(b, '"'))
}

// A script's local functions are made afresh on every run, and each costs about as much as a
// Redis command: helpers that only some sends need (civil, parse3339, draw and takeFaults,
// takeRule, bound) are made in the branch that uses them. A function made inside one (the
// per-send body) costs that on every send, and more for each of one's locals it captures: the
// helpers every send needs (matches, useApp, window) are made once per run and take the send's
// values as arguments, and the decision leaves its block with break to the code that journals
// and answers, where it used to call a closure (callgrind: 296k → 290k Redis instructions for a
// lone send, 214k → 206k per send with 16 callers).
const sendSrc = luaCore + luaClock + luaCivil + `
-- The plans, read before anything is written: a store whose plans an earlier version wrote has
-- them only as JSON, so the caller compiles them (Store.compileFaults) and runs the script again.
local fs = redis.call('HMGET', K_PLANS, 'fcg', 'fca', 'rules', 'rules_v', 'set')
if fs[5] == '1' and (not fs[1] or not fs[2]) then return redis.error_reply('UNCOMPILED') end
-- ensured lists the apps known to be in the registry (ensure), for every send of the run.
local ensured = {}
-- ensure puts an app in the registry before any of its keys is written (Store.register).
-- The app is marked only once registered: a registration that fails fails every send of the app.
local function ensure(id)
  if ensured[id] then return end
  local meta = akey(P, id, 'meta')
  if redis.call('HGET', meta, 'reg') ~= '1' then
    redis.call('SADD', K_REG, id)
    redis.call('HSET', meta, 'reg', '1')
  end
  ensured[id] = true
end
local function verdict(layer, code, reason) return {l = layer, c = code, r = reason, ru = '', w = {}} end
-- take is TakeCount.
local function take(id, name, period, limit)
  local k = akey(P, id, 'cnt')
  local v = redis.call('HGET', k, name)
  local c = 0
  if v then
    local cs, per = string.match(v, '^(%d+) (.*)$')
    if per == period then c = tonumber(cs) end
  end
  if limit > 0 and c >= limit then return c, false end
  ensure(id)
  c = c + 1
  redis.call('HSET', k, name, fmt(c) .. ' ' .. period)
  return c, true
end
-- The clock of every send of the run (one script run is one instant): Redis's TIME, as numbers
-- (NS, NN) and as the decimal strings TIME gives (NTS, NTN), which spare a send without a clock
-- offset the conversion of a number to a string (sprintf's %.14g, dear in Lua).
local T = redis.call('TIME')
local NS, NN, NTS, NTN = tonumber(T[1]), tonumber(T[2]) * 1000, T[1], T[2] .. '000'
if T[2] == '0' then NTN = '0' end
-- The plans as tables, decoded for the first send that needs them: rules, and the fault plans
-- global (GPLANS) and per app (APLANS).
local RULES, GPLANS, APLANS
-- What the run has read once, for its later sends: the parsed flags by their text (FLAGS), the
-- tokens (TOKENS: the decoded record, or false for none) and the apps' hashes (APPS). No send
-- writes a token; a send that registers an app drops the app's entry.
local FLAGS, TOKENS, APPS = {}, {}, {}

-- NONE is an empty list that is only read, and the warnings as [kind, message] pairs, which
-- sends put in their lists but never change: made once per run, not once per send.
local NONE = {}
local W_UNISSUED, W_UNCONF, W_RULE, W_FIRST = {UNISSUED_K, UNISSUED_M}, {UNCONF_K, UNCONF_M}, {RULE_K, RULE_M}, {FIRST_K, FIRST_M}
-- matches is SendMatch.Matches for the send whose ARGV start after B.
local function matches(m, app, B)
  if type(m) ~= 'table' then return true end
  return (m.app == nil or m.app == app) and (m.token == nil or m.token == ARGV[B + 1]) and
    (m.open_id == nil or m.open_id == ARGV[B + 2]) and (m.msg_type == nil or m.msg_type == ARGV[B + 3]) and
    (m.content == nil or m.content == ARGV[B + 4]) and
    (m.content_contains == nil or string.find(ARGV[B + 4], m.content_contains, 1, true) ~= nil)
end
-- useApp reads app id's hash (once per run) and answers whether the app exists, then its id,
-- source and capability, and its clock: Redis's TIME plus the app's offset, as (sec, nsec) and
-- in decimal. An app that does not exist answers the values a send starts with.
local function useApp(id)
  local h = APPS[id]
  if not h then
    h = redis.call('HMGET', akey(P, id, 'app'), 'id', 'source', 'cap', 'offset')
    APPS[id] = h
  end
  if not h[1] then return false, '', '', false, 0, 0, '0', '0' end
  ensured[h[1]] = true -- an app's hash is written only once the app is registered
  if h[4] and h[4] ~= '0' then
    local as, an = tadd(NS, NN, splitns(h[4]))
    return true, h[1], h[2] or '', h[3] == '1', as, an, fmt(as), fmt(an)
  end
  return true, h[1], h[2] or '', h[3] == '1', NS, NN, NTS, NTN
end
-- window is a verdict of the window, with the warnings gw of the platform's grant.
local function window(gw, code, reason)
  local v = verdict('business', code, reason)
  for i, w in ipairs(gw) do v.w[i] = w end
  return v
end

-- one decides the send whose ARGV start after B and answers its reply. It reads the run's
-- locals above as upvalues: Lua 5.1 allows a function 60, and one uses 37 of them.
local function one(B)
  local TOKEN, OPENID, MSGTYPE, CONTENT = ARGV[B + 1], ARGV[B + 2], ARGV[B + 3], ARGV[B + 4]
  local fl = FLAGS[ARGV[B + 10]]
  if not fl then
    fl = {string.match(ARGV[B + 10], '^(%d) (%d) (%S+) (%-?%d+) (%d+) (%-?%d+) (%d) (%-?%d+)$')}
    if fl[3] == '-' then fl[3] = '' end
    -- The numbers once per run, not once per send (tonumber is strtod, dear in Lua).
    fl[9], fl[10], fl[11], fl[12] = tonumber(fl[8]), tonumber(fl[4]), tonumber(fl[5]), tonumber(fl[6])
    FLAGS[ARGV[B + 10]] = fl
  end
  local SANDBOX, BAIDU, MAGIC, _, _, MAXS, FIRST, TZS, TZ, WS, WN, MAX = unpack(fl)
  local pre = NONE
  if ARGV[B + 7] ~= '' then pre = cjson.decode(ARGV[B + 7]) end
  local W = {}
  for _, w in ipairs(pre.w or NONE) do W[#W + 1] = w end

  -- 1. The token: sendToken.
  local app, appsrc, appcap = '', '', false
  local as, an = 0, 0
  -- TS and TN are as and an in decimal.
  local TS, TN = '0', '0'
  local tv = pre.tv
  if not tv then
    local tok = TOKENS[TOKEN]
    if tok == nil then
      local tj = redis.call('HGET', K_TOKENS, TOKEN)
      tok = tj and cjson.decode(tj) or false
      TOKENS[TOKEN] = tok
    end
    local found
    if tok and not tok.refresh then
      found, app, appsrc, appcap, as, an, TS, TN = useApp(tok.app)
      if not found then
        tv = verdict('gateway', 110, 'access_token: its app ' .. tok.app .. ' is gone')
      elseif tok.expires then
  ` + luaParse3339 + `
        local es, en = parse3339(tok.expires)
        if ple(es, en, as, an) then
          civil()
          tv = verdict('gateway', 111, 'access_token: expired at ' .. string.gsub(tok.expires, '%.%d+', '', 1) ..
            ' (app clock ' .. rfc3339(as, an, TZ, false) .. ')')
        end
      end
    elseif tok then
      tv = verdict('gateway', 110, 'access_token: this is a refresh token; send the access_token')
    elseif SANDBOX ~= '1' then
      tv = verdict('gateway', 110, 'access_token: not issued by this fake (policy tokens: issued)')
    elseif BAIDU == '1' then
      tv = verdict('gateway', 110, "access_token: has Baidu's shape but was not issued by this fake (stale from an earlier run?); get a new one")
    else
      -- RegisterApp: the first registration wins.
      local id = ARGV[B + 5]
      found, app, appsrc, appcap, as, an, TS, TN = useApp(id)
      if not found then
        ensure(id)
        redis.call('HSET', akey(P, id, 'app'), 'id', id, 'client_id', '', 'secret', '', 'source', 'sandbox-token', 'cap', '1', 'offset', '0')
        APPS[id] = nil
        found, app, appsrc, appcap, as, an, TS, TN = useApp(id)
      end
    end
    if not tv then
      if appsrc == 'sandbox-token' then
        W[#W + 1] = W_UNISSUED
      elseif appsrc == 'sandbox-client' then
        W[#W + 1] = W_UNCONF
      end
    end
  end

  -- 2. The fault plans: sendFaults, takeFaults, DecideFault, FaultStep. The compiled plans (fcg,
  -- fca) are written beside their JSON by Seed and PutFaults.
  local fowner, findex, fmatched, fstep, fraw, fkind, fbk = '', -1, 0, 0, '', nil, ''

  -- Only a store with fault plans makes their helpers.
  if MAGIC == '' and ((app ~= '' and fs[2] and fs[2] ~= '') or (fs[1] and fs[1] ~= '')) then
  ` + DrawSource + `
    local function takeFaults(owner, list)
      for _, pl in ipairs(list) do
        if matches(pl.m, app, B) then
          local field = fmt(pl.i) .. ':' .. owner
          local c = redis.call('HGET', K_COUNTS, field)
          local matched, injected = 0, 0
          if c then
            local m, i = string.match(c, '^(%d+) (%d+)$')
            matched, injected = tonumber(m), tonumber(i)
          end
          matched = matched + 1
          local inj, step = false, 0
          if matched <= pl.skip or (pl.times > 0 and injected >= pl.times) or (pl.steps > 0 and injected >= pl.steps) then
          elseif pl.p > 0 and pl.p < 1 and draw(pl.sm, matched) >= pl.p then
          else
            inj, step = true, injected
            injected = injected + 1
          end
          redis.call('HSET', K_COUNTS, field, fmt(matched) .. ' ' .. fmt(injected))
          if inj then
            local kind = pl.kind or ''
            if pl.steps > 0 then kind = pl.seq[step + 1] end
            local lat = pl.lmin
            if pl.lmax > pl.lmin then lat = lat + math.floor(draw(pl.lm, matched) * (pl.lmax - pl.lmin + 1)) end
            if not (kind == 'none' and lat == 0) then
              fowner, findex, fmatched, fstep, fraw, fkind, fbk = owner, pl.i, matched, step, pl.raw, kind, pl.bk or ''
              return true
            end
          end
        end
      end
      return false
    end
    if app ~= '' and fs[2] and fs[2] ~= '' then
      APLANS = APLANS or cjson.decode(fs[2])
      if APLANS[app] then takeFaults(app, APLANS[app]) end
    end
    if findex < 0 and fs[1] and fs[1] ~= '' then
      GPLANS = GPLANS or cjson.decode(fs[1])
      takeFaults('', GPLANS)
    end
  end
  local faulted = findex >= 0 or MAGIC ~= ''

  -- The decision, as a block that each outcome leaves with break: fv is the verdict, fstop
  -- whether a fault that strikes before the service stopped the send. (Lua 5.1 has no goto;
  -- this was a function, finish, made on every send and capturing 14 of one's locals.)
  local fv, fstop
  repeat
    -- A token refusal ends here; a fault that strikes before the service too, nothing counted.
    if tv then fv, fstop = tv, false; break end
    local before = MAGIC == 'before'
    if fkind then
      -- config.Fault.PhaseFor, compiled: bk lists the plan's kinds that strike before ("-": none).
      local kk = fkind
      if kk == '' then kk = '-' end
      before = string.find(fbk, ' ' .. kk .. ' ', 1, true) ~= nil
    end
    if before then fv, fstop = {}, true; break end

    -- 4. Gateway rules, QPS, daily: sendDecide, takeRule.
    if not RULES then
      -- Set only once decoded: rules that fail to decode fail every send of the run, as alone.
      local r = {}
      if fs[3] and fs[3] ~= '' and fs[3] ~= 'null' and fs[3] ~= '[]' then r = cjson.decode(fs[3]) end
      RULES = r
    end
    local rules = RULES
    -- takeRule is made only when there are rules.
    local takeRule
    if #rules > 0 then
      local rperiod = 'v' .. (fs[4] or '0')
      takeRule = function(gateway)
        for i, r in ipairs(rules) do
          local a = r.answer or {}
          if gateway == (a.error_code ~= nil) and matches(r.match, app, B) then
            local _, ok = take('', 'rule:' .. fmt(i - 1), rperiod, r.times or 0)
            if ok then
              local label = r.name
              if label == nil or label == '' then label = 'rules[' .. fmt(i - 1) .. ']' end
              local v
              if gateway then v = verdict('gateway', a.error_code, 'rule ' .. label) else v = verdict('business', a.errno, 'rule ' .. label) end
              v.ru = label
              v.w = {W_RULE}
              return v
            end
          end
        end
        return nil
      end
    end
    local v = takeRule and takeRule(true)
    if v then fv, fstop = v, false; break end
    local qps, daily = 0, 0
    if ARGV[B + 6] ~= '0 0' then
      local lim = {}
      for x in string.gmatch(ARGV[B + 6], '%S+') do lim[#lim + 1] = x end
      qps, daily = tonumber(lim[1]), tonumber(lim[2])
      for i = 3, #lim, 3 do
        if lim[i] == app then qps, daily = tonumber(lim[i + 1]), tonumber(lim[i + 2]) end
      end
    end
    if qps > 0 then
      local sec = TS
      local n, ok = take(app, 'qps', sec, qps)
      if not ok then
        fv, fstop = verdict('gateway', 18, 'qps limit: ' .. fmt(n) .. ' of ' .. fmt(qps) .. ' requests used in second ' .. sec .. ' (app clock)'), false; break
      end
    end
    if daily > 0 then
      civil()
      local day = ymd(as + 8 * 3600)
      local n, ok = take(app, 'daily', day, daily)
      if not ok then
        fv, fstop = verdict('gateway', 17, 'daily limit: ' .. fmt(n) .. ' of ' .. fmt(daily) .. ' requests used on ' .. day .. ' (Beijing time, app clock)'), false; break
      end
    end

    -- 5. Business: Invalid, business rules, Magic, OpenIDs, capability, the window (TakeReply).
    if pre.inv then fv, fstop = pre.inv, false; break end
    v = takeRule and takeRule(false)
    if v then fv, fstop = v, false; break end
    if pre.mag then fv, fstop = pre.mag, false; break end
    if pre.oid and pre.oid[app] then fv, fstop = pre.oid[app], false; break end
    if not appcap then
      fv, fstop = verdict('business', 90002, 'customer-service capability is off for app ' .. app), false; break
    end
    -- The platform's grant of a send on sendbytp (store.Grant): a refusal, or warnings to carry on.
    local gw = NONE
    if pre.g then
      if pre.g.r and pre.g.r[app] then fv, fstop = pre.g.r[app], false; break end
      gw = pre.g.w or NONE
    end
    local win = akey(P, app, 'win')
    local cs, cn = tsub(as, an, WS, WN)
    local max = MAX
    local wv = redis.call('HGET', win, OPENID)
    local s, n, r, u
    local opened = wv -- "<sec> <nsec> " of an open window, to write back as it is
    local expired = false
    if wv then
      -- pwin, and where the replies start: one match, not two.
      local ws, wn, at, wr
      ws, wn, at, wr, u = string.match(wv, '^(%-?%d+) (%d+) ()(%d+) (%d)$')
      s, n, r = tonumber(ws), tonumber(wn), tonumber(wr)
      expired = ple(s, n, cs, cn)
      if not expired then opened = string.sub(wv, 1, at - 1) end
    end
    if not wv or expired then
      if FIRST ~= '1' then
        if expired then
          local es, en = tadd(s, n, WS, WN)
          civil()
          fv, fstop = window(gw, 90001, 'window: the window opened at ' .. rfc3339(s, n, TZ, false) .. ' expired at ' ..
            rfc3339(es, en, TZ, false) .. ' (app clock)'), false; break
        end
        fv, fstop = window(gw, 90001, 'window: no user message opened a window for this open_id (policy require_user_message)'), false; break
      end
      ensure(app)
    ` + luaBound + `
      bound(win, MAXWIN, true, cs, cn)
      s, n, r, u = as, an, 0, '0'
      opened = TS .. ' ' .. TN .. ' '
      -- A window of no replies is full at once, but opened all the same.
      if r >= max then redis.call('HSET', win, OPENID, ewin(s, n, r, u)) end
    end
    if r >= max then
      civil()
      fv, fstop = window(gw, 90001, 'window: ' .. fmt(r) .. ' of ' .. fmt(max) ..
        ' replies already sent in the window opened at ' .. rfc3339(s, n, TZ, false) .. ' (app clock)'), false; break
    end
    ensure(app)
    r = r + 1
    local rs = fmt(r)
    redis.call('HSET', win, OPENID, opened .. rs .. ' ' .. u)
    v = window(gw, 0, 'window: reply ' .. rs .. ' of ' .. MAXS)
    if u ~= '1' then v.w[#v.w + 1] = W_FIRST end
    fv, fstop = v, false
  until true

  -- Write the notes, journal the entry unless a fault picked the send, and answer.
  local reason = fv.r
  if not fstop and fv.c ~= 0 then reason = reason .. ARGV[B + 8] end
  for _, w in ipairs(fv.w or NONE) do W[#W + 1] = w end
  local seq = 0
  if not faulted and not fstop then
    -- The entry travels as the server's template (e) and the decision beside it, in fields of
    -- their own, the same in every entry (decodeDecision merges them): no JSON is encoded here.
    local ws = ''
    if #W == 1 then
      ws = W[1][1] .. '\0' .. W[1][2]
    elseif #W > 1 then
      local flat = {}
      for _, w in ipairs(W) do
        flat[#flat + 1] = w[1]
        flat[#flat + 1] = w[2]
      end
      ws = table.concat(flat, '\0')
    end
    -- Append (Append). d packs the decision's fields that hold no space: "layer code sec nsec
    -- zone" (each argument of a command costs about as much as a short command).
    ensure(app)
    seq = redis.call('INCR', K_SEQ)
    local id = fmt(seq) .. '-0'
    local d = fv.l .. ' ' .. (fv.c == 0 and '0' or fmt(fv.c)) .. ' ' .. TS .. ' ' .. TN .. ' ' .. TZS
    local ru = fv.ru or ''
    redis.call('XADD', akey(P, app, 'jrn'), 'MAXLEN', JCAP, id, 'e', ARGV[B + 9], 'd', d, 'r', reason, 'ru', ru, 'a', app, 'w', ws)
    redis.call('XADD', K_FEED, 'MAXLEN', '~', FCAP, id, 'e', ARGV[B + 9], 'd', d, 'r', reason, 'ru', ru, 'a', app, 'w', ws)
    redis.call('HINCRBY', akey(P, app, 'meta'), 'appended', '1')
  end
  local flags = 0
  if fstop then flags = 1 end
  local out = {seq, app, as, an, fv.l or '', fv.c or 0, reason or '', fv.ru or '', flags}
  if findex >= 0 then
    out[9] = flags + 2
    out[10], out[11], out[12], out[13], out[14] = fowner, findex, fmatched, fstep, fraw
  end
  for _, w in ipairs(W) do
    out[#out + 1] = w[1]
    out[#out + 1] = w[2]
  end
  return out
end

-- Every send in turn, each in a protected call: one that fails (a write refused, a key of the
-- wrong type) answers its error in its place, and the sends after it run all the same.
local out = {}
for B = 0, #ARGV - 1, ARITY do
  local ok, r = pcall(one, B)
  if not ok then
    if type(r) == 'table' and r.err then r = r.err end
    r = redis.error_reply(tostring(r))
  end
  out[#out + 1] = r
end
return out
`
