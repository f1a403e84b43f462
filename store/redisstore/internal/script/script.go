// Package script holds the Lua scripts of the Redis store (store/redisstore): one small script per
// primitive that must read and write in one atomic step (a window's reply, a counter under its
// limit, a fault plan's count, a journal entry with its sequence number), each run with EVALSHA
// (and EVAL when Redis lost its script cache, e.g. after a restart). The scripts hold no decision
// of Baidu's: no codes, no reasons, no order of checks, no date formats. They answer facts
// (counts, statuses, times as integers), and the Go side builds the store's types from them. Each
// variable's comment lists its KEYS, ARGV and answer; the Go side that builds them is in
// redisstore. Times travel as two integers (Unix seconds and nanoseconds) because Lua numbers
// are doubles; clock offsets are added with HINCRBY, which Redis does in 64-bit integers.
//
// Scripts that write an app's keys first check that the app is in the registry of apps (the meta
// hash's "reg" field): if not, they write nothing and answer the error "UNREGISTERED"; the store
// then registers the app and runs the script again (redisstore's Store.runApp). So no key of an
// app exists that Reset cannot find, and every such script touches only the keys of one hash
// slot. TakeCounts, whose takes may be of several apps, registers them itself.
package script

import "github.com/redis/go-redis/v9"

// luaCore are the helpers of every script that writes an app's keys: key names, numbers, times
// and windows. A script's helpers are made afresh on every run (each local function is a new
// closure), so a script that needs few of them writes its own instead.
const luaCore = `
local function akey(p, id, kind)
  if id == '' then return p .. 'noapp:{noapp}:' .. kind end
  return p .. 'app:{' .. id .. '}:' .. kind
end
local function fmt(n) return string.format('%d', n) end
-- ple reports whether the time (s1, n1) is at or before (s2, n2).
local function ple(s1, n1, s2, n2)
  return s1 < s2 or (s1 == s2 and n1 <= n2)
end
-- a window is "<sec> <nsec> <replies> <user message: 0|1>[ <request ids of its replies, comma-separated>]"
local function pwin(v)
  local s, n, r, u, ids = string.match(v, '^(%-?%d+) (%d+) (%d+) (%d) ?(.*)$')
  return tonumber(s), tonumber(n), tonumber(r), u, ids or ''
end
local function ewin(s, n, r, u, ids)
  local v = fmt(s) .. ' ' .. fmt(n) .. ' ' .. fmt(r) .. ' ' .. u
  if ids and ids ~= '' then v = v .. ' ' .. ids end
  return v
end
`

// luaCommon are luaCore and the registry check of the one-operation scripts.
const luaCommon = luaCore + `
local function registered(meta)
  return redis.call('HGET', meta, 'reg') == '1'
end
`

// luaLate tells whether Redis's clock is past a time in milliseconds ("0": never).
const luaLate = `
local function late(limit)
  if limit == '0' or limit == '' then return false end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(limit)
end
`

// luaBound makes room for one more window in a full window hash: expired windows go first (when
// a cut-off is given), then the oldest eighth.
const luaBound = `
local function bound(win, limit, hascut, cs, cn)
  if redis.call('HLEN', win) < limit then return end
  local all = redis.call('HGETALL', win)
  local ws = {}
  for i = 1, #all, 2 do
    local s, n = pwin(all[i + 1])
    if hascut and ple(s, n, cs, cn) then
      redis.call('HDEL', win, all[i])
    else
      ws[#ws + 1] = {all[i], s, n}
    end
  end
  if #ws < limit then return end
  table.sort(ws, function(a, b) return a[2] < b[2] or (a[2] == b[2] and a[3] < b[3]) end)
  for i = 1, math.max(1, math.floor(#ws / 8)) do redis.call('HDEL', win, ws[i][1]) end
end
`

// DrawSource is store.Draw in Lua (tests run it alone). Every product stays below 2^47 and every xor below 2^31, so
// doubles compute it exactly; bit.bxor is Redis's, the arithmetic xor is for Lua without it
// (miniredis).
const DrawSource = `
local hasbit = type(rawget(_G, 'bit')) == 'table' -- reading a missing global would raise
local function bxor(a, b)
  if hasbit then return bit.bxor(a, b) end
  local r, p = 0, 1
  while a > 0 or b > 0 do
    local x, y = a % 2, b % 2
    if x ~= y then r = r + p end
    a, b, p = (a - x) / 2, (b - y) / 2, p * 2
  end
  return r
end
-- draw takes seed modulo 2^31-1 (the caller reduces the 64-bit seed).
local function draw(seedm, n)
  local m = 2147483647
  local x = (seedm + n % m) % m
  for _ = 1, 4 do
    if x == 0 then x = 1 end
    x = (x * 48271) % m
    x = bxor(x, math.floor(x / 2048))
  end
  return (x % m) / m
end
`

// luaSeed stores the seed passed in ARGV where absent (store.Store.Seed). ARGV: prefix, at sec,
// at nsec, rules, global faults, app faults (the encodings the store keeps), then counted lists: apps (id, client_id, secret, source, capability, offset), tokens (value,
// json), windows (app, open_id). KEYS: the app registry, the tokens, the plans, the plan version
// counter, the fault counts.
const luaSeed = `
local function register(p, reg, id)
  redis.call('ZADD', reg, 0, id)
  redis.call('HSET', akey(p, id, 'meta'), 'reg', '1')
end
local function seed(reg, tokens, def, ver, fc)
  local p, as, an = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
  local i = 7
  local n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    local id = ARGV[i]
    local k = akey(p, id, 'app')
    if redis.call('EXISTS', k) == 0 then
      redis.call('HSET', k, 'id', id, 'client_id', ARGV[i + 1], 'secret', ARGV[i + 2],
        'source', ARGV[i + 3], 'cap', ARGV[i + 4], 'offset', ARGV[i + 5])
    end
    register(p, reg, id)
    i = i + 6
  end
  n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    redis.call('HSETNX', tokens, ARGV[i], ARGV[i + 1])
    i = i + 2
  end
  n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    redis.call('HSETNX', akey(p, ARGV[i], 'win'), ARGV[i + 1], ewin(as, an, 0, '1'))
    register(p, reg, ARGV[i])
    i = i + 2
  end
  n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    redis.call('HSETNX', akey(p, ARGV[i], 'rec'), ARGV[i + 1], ARGV[i + 2])
    register(p, reg, ARGV[i])
    i = i + 3
  end
  if redis.call('HGET', def, 'set') ~= '1' then
    local rv = redis.call('INCR', ver)
    local fv = redis.call('INCR', ver)
    redis.call('HSET', def, 'set', '1', 'rules', ARGV[4], 'rules_v', fmt(rv),
      'fglobal', ARGV[5], 'fapps', ARGV[6], 'faults_v', fmt(fv))
    redis.call('DEL', fc)
  end
end
`

var (
	// RegisterApp: KEYS app, meta; ARGV id, client_id, secret, source, cap, offset.
	// Answers {1} when it stored the app, else {0, <the stored app's HGETALL>}.
	RegisterApp = redis.NewScript(luaCommon + `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, redis.call('HGETALL', KEYS[1])}
end
if not registered(KEYS[2]) then return redis.error_reply('UNREGISTERED') end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'client_id', ARGV[2], 'secret', ARGV[3],
  'source', ARGV[4], 'cap', ARGV[5], 'offset', ARGV[6])
return {1}
`)

	// UpdateApp: KEYS app; ARGV capability ("", "0" or "1"), nanoseconds to add to the
	// offset. Answers the app's HGETALL, or an empty array for an unknown app.
	UpdateApp = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
if ARGV[1] ~= '' then redis.call('HSET', KEYS[1], 'cap', ARGV[1]) end
redis.call('HINCRBY', KEYS[1], 'offset', ARGV[2])
return redis.call('HGETALL', KEYS[1])
`)

	// PutToken: KEYS tokens, issued (list, oldest first); ARGV value, json, evictable
	// ("1": an issued token), the most issued tokens kept.
	PutToken = redis.NewScript(`
local replaced = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '1' and not replaced then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  local max = tonumber(ARGV[4])
  while redis.call('LLEN', KEYS[2]) > max do
    redis.call('HDEL', KEYS[1], redis.call('LPOP', KEYS[2]))
  end
end
return 1
`)

	// OpenWindow: KEYS win, meta; ARGV open_id, sec, nsec, the most windows kept.
	OpenWindow = redis.NewScript(luaCommon + luaBound + `
if not registered(KEYS[2]) then return redis.error_reply('UNREGISTERED') end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  bound(KEYS[1], tonumber(ARGV[4]), false, 0, 0)
end
redis.call('HSET', KEYS[1], ARGV[1], ewin(tonumber(ARGV[2]), tonumber(ARGV[3]), 0, '1'))
return 1
`)

	// TakeReply: KEYS win, meta; ARGV open_id, now sec, now nsec, cut-off sec, cut-off
	// nsec (now minus the window's duration: a window opened at or before it has expired), max
	// replies, open on first ("1"), the most windows kept. Answers the facts {status, sec, nsec,
	// replies, user message} with status "ok", "none" (no window), "expired" or "full"; the
	// window's fields are zero for "none". The app is registered first, whatever the answer, as
	// every store holds an app it was asked to take a reply of.
	//
	// ARGV[9] is the request id of the take ("" none), kept in the window with the ids of its
	// other replies (the newest 32), so that GiveBack finds it; ARGV[10] the Redis time, in
	// milliseconds, after which the take must not count (0: none): a take that Redis runs after
	// its caller stopped waiting (a stalled Redis resumed) answers {'late'} and counts nothing.
	TakeReply = redis.NewScript(luaCommon + luaBound + luaLate + `
if late(ARGV[10]) then return {'late', 0, 0, 0, '0'} end
if not registered(KEYS[2]) then return redis.error_reply('UNREGISTERED') end
local ns, nn, cs, cn = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local max = tonumber(ARGV[6])
local v = redis.call('HGET', KEYS[1], ARGV[1])
local s, n, r, u, ids
local expired = false
if v then
  s, n, r, u, ids = pwin(v)
  expired = ple(s, n, cs, cn)
end
if not v or expired then
  if ARGV[7] ~= '1' then
    if expired then return {'expired', s, n, r, u} end
    return {'none', 0, 0, 0, '0'}
  end
  bound(KEYS[1], tonumber(ARGV[8]), true, cs, cn)
  s, n, r, u, ids = ns, nn, 0, '0', ''
  if r >= max then
    redis.call('HSET', KEYS[1], ARGV[1], ewin(s, n, r, u, ids))
    return {'full', s, n, r, u}
  end
end
if r >= max then return {'full', s, n, r, u} end
r = r + 1
if ARGV[9] ~= '' then
  local list = {}
  for id in string.gmatch(ids, '[^,]+') do list[#list + 1] = id end
  list[#list + 1] = ARGV[9]
  while #list > 32 do table.remove(list, 1) end
  ids = table.concat(list, ',')
end
redis.call('HSET', KEYS[1], ARGV[1], ewin(s, n, r, u, ids))
return {'ok', s, n, r, u}
`)

	// GiveBack: KEYS win; ARGV open_id, request id. When the user's window holds the reply of
	// the request, it gives it back: one reply fewer, the id gone. Answers 1 when it gave one
	// back, 0 otherwise.
	GiveBack = redis.NewScript(luaCore + `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local s, n, r, u, ids = pwin(v)
local list, found = {}, false
for id in string.gmatch(ids, '[^,]+') do
  if id == ARGV[2] and not found then found = true else list[#list + 1] = id end
end
if not found then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ewin(s, n, math.max(r - 1, 0), u, table.concat(list, ',')))
return 1
`)

	// TakeCount: KEYS counters, meta; ARGV name, period, limit. A counter is "<count>
	// <period>". Answers {count, ok}.
	TakeCount = redis.NewScript(luaCommon + `
local v = redis.call('HGET', KEYS[1], ARGV[1])
local c = 0
if v then
  local cs, per = string.match(v, '^(%d+) (.*)$')
  if per == ARGV[2] then c = tonumber(cs) end
end
local limit = tonumber(ARGV[3])
if limit > 0 and c >= limit then return {c, 0} end
if not registered(KEYS[2]) then return redis.error_reply('UNREGISTERED') end
c = c + 1
redis.call('HSET', KEYS[1], ARGV[1], fmt(c) .. ' ' .. ARGV[2])
return {c, 1}
`)

	// TakeCounts takes counters in order, each as TakeCount does, up to the first take that
	// ends the sequence: a refused one, or for a take flagged "ends when counted" a counted one.
	// KEYS: the app registry, then per take its app's counters and meta; ARGV: the key prefix,
	// then per take its app, name, period, limit (0: none) and flag ("1": ends when counted).
	// Each take's app is registered before its counter is written. Answers {index, count} of the
	// take that ended the sequence (1-based; 0 when none did, with count 0).
	TakeCounts = redis.NewScript(`
local function fmt(n) return string.format('%d', n) end
local n = (#KEYS - 1) / 2
for i = 1, n do
  local cnt, meta, a = KEYS[2 * i], KEYS[2 * i + 1], 2 + (i - 1) * 5
  local name, period, limit, ends = ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3]), ARGV[a + 4] == '1'
  if redis.call('HGET', meta, 'reg') ~= '1' then
    redis.call('ZADD', KEYS[1], 0, ARGV[a])
    redis.call('HSET', meta, 'reg', '1')
  end
  local v = redis.call('HGET', cnt, name)
  local c = 0
  if v then
    local cs, per = string.match(v, '^(%d+) (.*)$')
    if per == period then c = tonumber(cs) end
  end
  local ok = not (limit > 0 and c >= limit)
  if ok then
    c = c + 1
    redis.call('HSET', cnt, name, fmt(c) .. ' ' .. period)
  end
  if ok == ends then return {i, c} end
end
return {0, 0}
`)

	// Lookup reads what a send needs before it decides, without writing (not EVALSHA_RO:
	// miniredis refuses TIME in a read-only script):
	// KEYS tokens, plans; ARGV prefix, token ("" none), fallback app id ("" none), a probed
	// record's field in the app's rec hash ("" none). The token's app (or the fallback's, for a
	// token the store does not hold) is read from the key its id names, so this needs a single
	// Redis (not a Cluster). Answers {token (the stored value, or false), the app's HGETALL
	// (empty: none), rules version, faults version, TIME's seconds and microseconds, whether the
	// app holds the probed record (1, 0; -1: not probed)}.
	Lookup = redis.NewScript(`
local tok = false
if ARGV[2] ~= '' then tok = redis.call('HGET', KEYS[1], ARGV[2]) end
local id = ARGV[3]
if tok then
  -- The token as stored (redisstore's wireToken): JSON whose first field is the app's id. An id
  -- that JSON escapes is decoded in full.
  id = string.match(tok, '^{"app":"([^"\\]*)"')
  if not id then
    local ok, t = pcall(cjson.decode, tok)
    id = ''
    if ok and type(t) == 'table' and type(t.app) == 'string' then id = t.app end
  end
end
local app = {}
local held = -1
if id ~= '' then
  app = redis.call('HGETALL', ARGV[1] .. 'app:{' .. id .. '}:app')
  if #app > 0 and ARGV[4] and ARGV[4] ~= '' then
    held = redis.call('HEXISTS', ARGV[1] .. 'app:{' .. id .. '}:rec', ARGV[4])
  end
end
local v = redis.call('HMGET', KEYS[2], 'rules_v', 'faults_v')
local now = redis.call('TIME')
return {tok, app, v[1] or '0', v[2] or '0', now[1], now[2], held}
`)

	// PutRules: KEYS plans, version counter; ARGV the rules' encoding. Answers the new version.
	PutRules = redis.NewScript(`
local v = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'set', '1', 'rules', ARGV[1], 'rules_v', string.format('%d', v))
return v
`)

	// PutFaults: KEYS plans, version counter, fault counts; ARGV the top-level plans'
	// encoding. Answers {version, the apps' plans}.
	PutFaults = redis.NewScript(`
local v = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'set', '1', 'fglobal', ARGV[1], 'faults_v', string.format('%d', v))
redis.call('DEL', KEYS[3])
return {v, redis.call('HGET', KEYS[1], 'fapps') or ''}
`)

	// RestartFaults: KEYS plans, version counter, fault counts. Answers {version, the
	// top-level plans, the apps' plans}.
	RestartFaults = redis.NewScript(`
local v = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'faults_v', string.format('%d', v))
redis.call('DEL', KEYS[3])
return {v, redis.call('HGET', KEYS[1], 'fglobal') or '', redis.call('HGET', KEYS[1], 'fapps') or ''}
`)

	// TakeFault is store.DecideFault: KEYS plans, fault counts; ARGV version, plan field,
	// skip, times, steps, probability, seed modulo 2^31-1. A count is "<matched> <injected>".
	// Answers {matched, injected (0|1), step}; {0, 0, 0} for a stale version.
	TakeFault = redis.NewScript(luaCommon + DrawSource + `
-- A store whose plans were never set is at version 0.
if (redis.call('HGET', KEYS[1], 'faults_v') or '0') ~= ARGV[1] then return {0, 0, 0} end
local matched, injected = 0, 0
local c = redis.call('HGET', KEYS[2], ARGV[2])
if c then
  local m, i = string.match(c, '^(%d+) (%d+)$')
  matched, injected = tonumber(m), tonumber(i)
end
matched = matched + 1
local skip, times, steps, p = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local inj, step = 0, 0
if matched <= skip or (times > 0 and injected >= times) or (steps > 0 and injected >= steps) then
elseif p > 0 and p < 1 and draw(tonumber(ARGV[7]), matched) >= p then
else
  inj, step = 1, injected
  injected = injected + 1
end
redis.call('HSET', KEYS[2], ARGV[2], fmt(matched) .. ' ' .. fmt(injected))
return {matched, inj, step}
`)

	// Append: KEYS sequence, feed, app registry, journal, meta, app, idle apps; ARGV app,
	// entry json, journal cap (exact), feed cap (approximate), key prefix, the most idle apps
	// kept. The entry's stream id is "<seq>-0" in both streams. An app that is not configured
	// (source "config") is marked used at seq in the idle apps; past the most kept, the least
	// recently used are dropped with their keys (UNLINK: freed off Redis's main thread). It
	// computes those apps' key names, so it needs a single Redis (not a Cluster). Answers seq.
	//
	// ARGV[7] is the Redis time in milliseconds after which the entry must not be appended ("0":
	// none): Append answers the error LATE then. ARGV[8], when "1", appends only when none of
	// the app's newest 256 entries has the entry's request id ARGV[9]; Append answers 0 then.
	Append = redis.NewScript(luaCore + luaLate + `
if late(ARGV[7]) then return redis.error_reply('LATE') end
if ARGV[8] == '1' then
  local needle = '"id":"' .. ARGV[9] .. '"'
  for _, m in ipairs(redis.call('XREVRANGE', KEYS[4], '+', '-', 'COUNT', 256)) do
    if string.find(m[2][2], needle, 1, true) then return 0 end
  end
end
local seq = redis.call('INCR', KEYS[1])
local id = string.format('%d', seq) .. '-0'
redis.call('XADD', KEYS[4], 'MAXLEN', ARGV[3], id, 'e', ARGV[2])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], id, 'e', ARGV[2])
redis.call('HINCRBY', KEYS[5], 'appended', 1)
if redis.call('HGET', KEYS[5], 'reg') ~= '1' then
  redis.call('ZADD', KEYS[3], 0, ARGV[1])
  redis.call('HSET', KEYS[5], 'reg', '1')
end
if ARGV[1] ~= '' and redis.call('HGET', KEYS[6], 'source') ~= 'config' then
  redis.call('ZADD', KEYS[7], seq, ARGV[1])
  local over = redis.call('ZCARD', KEYS[7]) - tonumber(ARGV[6])
  if over > 0 then
    for _, old in ipairs(redis.call('ZRANGE', KEYS[7], 0, over - 1)) do
      if old ~= ARGV[1] then
        local p = ARGV[5]
        redis.call('UNLINK', akey(p, old, 'app'), akey(p, old, 'meta'), akey(p, old, 'win'),
          akey(p, old, 'cnt'), akey(p, old, 'jrn'), akey(p, old, 'rec'))
        redis.call('ZREM', KEYS[3], old)
        redis.call('ZREM', KEYS[7], old)
      end
    end
  end
end
return seq
`)

	// Seed: see luaSeed.
	Seed = redis.NewScript(luaCommon + luaSeed + `
seed(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return 1
`)

	// ResetAll restores the configured state in one short step, whatever the number of apps: the
	// registry moves to the apps to clean (merged with those a former reset left), the tokens,
	// the plans, the fault counts and the idle apps go (UNLINK: freed off Redis's main thread),
	// the configured apps' keys go and they leave the apps to clean, then luaSeed runs. KEYS:
	// those of luaSeed, then the issued tokens list, the idle apps, the apps to clean. The apps
	// left to clean are dropped by CleanApps, a few at a time. The sequence counter, the plan
	// version counter, the feed and the sessions stay. Answers how many apps are left to clean.
	ResetAll = redis.NewScript(luaCommon + luaSeed + `
local p = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('EXISTS', KEYS[8]) == 1 then
    redis.call('ZUNIONSTORE', KEYS[8], 2, KEYS[8], KEYS[1])
    redis.call('DEL', KEYS[1])
  else
    redis.call('RENAME', KEYS[1], KEYS[8])
  end
end
redis.call('UNLINK', KEYS[2], KEYS[3], KEYS[5], KEYS[6], KEYS[7])
local n = tonumber(ARGV[7])
for k = 0, n - 1 do
  local id = ARGV[8 + k * 6]
  redis.call('UNLINK', akey(p, id, 'app'), akey(p, id, 'meta'), akey(p, id, 'win'),
    akey(p, id, 'cnt'), akey(p, id, 'jrn'), akey(p, id, 'rec'))
  redis.call('ZREM', KEYS[8], id)
end
-- the app-less bucket too: the seed may put records there
redis.call('UNLINK', akey(p, '', 'app'), akey(p, '', 'meta'), akey(p, '', 'win'), akey(p, '', 'cnt'),
  akey(p, '', 'jrn'), akey(p, '', 'rec'))
redis.call('ZREM', KEYS[8], '')
seed(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return redis.call('ZCARD', KEYS[8])
`)

	// CleanApps drops the keys of up to ARGV[2] apps that a reset left to clean (UNLINK), with
	// their places in the registry and the idle apps. KEYS: the apps to clean, the registry, the
	// idle apps; ARGV: the key prefix, how many. Answers {cleaned, left}.
	CleanApps = redis.NewScript(luaCore + `
local p = ARGV[1]
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
for _, id in ipairs(ids) do
  redis.call('UNLINK', akey(p, id, 'app'), akey(p, id, 'meta'), akey(p, id, 'win'),
    akey(p, id, 'cnt'), akey(p, id, 'jrn'), akey(p, id, 'rec'))
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
end
return {#ids, redis.call('ZCARD', KEYS[1])}
`)

	// DeleteApp: KEYS app, meta, win, cnt, jrn, registry, tokens, issued, rec, idle apps; ARGV app id.
	// Answers 0 for an unknown app, -1 for a configured one, 1 when it deleted the app and its
	// tokens (found by reading the tokens hash: a test sandbox holds few).
	DeleteApp = redis.NewScript(`
local source = redis.call('HGET', KEYS[1], 'source')
if not source then return 0 end
if source == 'config' then return -1 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[9])
redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('ZREM', KEYS[10], ARGV[1])
local all = redis.call('HGETALL', KEYS[7])
for i = 1, #all, 2 do
  local ok, t = pcall(cjson.decode, all[i + 1])
  if ok and type(t) == 'table' and t.app == ARGV[1] then
    redis.call('HDEL', KEYS[7], all[i])
    redis.call('LREM', KEYS[8], 0, all[i])
  end
end
return 1
`)

	// ResetApp: KEYS app, meta, win, cnt, jrn, rec; ARGV capability, at sec, at nsec, the
	// number of configured windows and their open_ids, then the app's configured records as
	// field, data pairs. Answers 0 for an unknown app.
	ResetApp = redis.NewScript(luaCommon + `
if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('DEL', KEYS[3], KEYS[4], KEYS[5], KEYS[6])
redis.call('HSET', KEYS[2], 'appended', '0')
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'offset', '0', 'cap', ARGV[1])
end
local nw = tonumber(ARGV[4])
for i = 5, 4 + nw do
  redis.call('HSET', KEYS[3], ARGV[i], ewin(tonumber(ARGV[2]), tonumber(ARGV[3]), 0, '1'))
end
for i = 5 + nw, #ARGV, 2 do
  redis.call('HSET', KEYS[6], ARGV[i], ARGV[i + 1])
end
return 1
`)

	// PutRecord: KEYS app, meta, rec; ARGV field, data, limit, noapp (1: the app-less bucket,
	// which needs no app hash), replace (0: keep a record that is there). Answers 1 when stored,
	// 0 when a record was there and kept, -1 for an app the store does not hold, -2 for a new
	// record past the limit; "UNREGISTERED" before the first write of an app's keys.
	PutRecord = redis.NewScript(luaCommon + `
if ARGV[4] ~= '1' and redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if not registered(KEYS[2]) then return redis.error_reply('UNREGISTERED') end
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then
  if ARGV[5] == '0' then return 0 end
elseif redis.call('HLEN', KEYS[3]) >= tonumber(ARGV[3]) then
  return -2
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return 1
`)

	// TakeRecord: KEYS rec; ARGV field. Answers the record's data and deletes it, or nil.
	TakeRecord = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then redis.call('HDEL', KEYS[1], ARGV[1]) end
return v
`)
)
