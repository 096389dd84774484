-- Complete a batch of events, each with everything its handling changed, in one script. Each
-- event is all or nothing on its own: state CAS, cases, outbox items, timers, done marker, pop
-- it, release and re-ready its conversation. Events are applied in the order given, so a later
-- one's version checks see an earlier one's writes. `still_claimed` and `finish_event` come
-- from finish_event.lua.
-- KEYS[1] ready zset, KEYS[2] leased zset, KEYS[3] event count, KEYS[4] outbox id counter,
-- KEYS[5] outbox due zset, KEYS[6] case index position counter, KEYS[7] timer due zset,
-- KEYS[8] timer data hash; then 4 keys per event: done marker, event hash, conversation list,
-- conversation state hash
-- ARGV[1] now_ms, ARGV[2] done marker ttl ms, ARGV[3] outbox item prefix ({pipe}), ARGV[4] bare
-- '<prefix>:{pipe}:' (case keys are built from it, see keys.rs), ARGV[5] state ttl ms, ARGV[6]
-- number of events, then per event its id, its conversation and a flat record:
--   state:  '0' (untouched) | '1', expected version, new state | '2', expected version (delete)
--   checks: n, then n (case number, expected case version) pairs
--   outbox: n, then n (channel, payload) pairs
--   cases:  n, then per case: number, '1' body | '0', n history entries..., n removed
--           indexes..., n added indexes...
--   timers: n cancelled, then n ids; n scheduled, then n (id, due_ms, encoded data) triples
-- A case's version is `case-v:<number>`; a body without it (written before versions existed)
-- counts as version 1, no body as version 0.
-- Returns one outcome per event: 1 committed, 0 already done or unknown (nothing changed), -1
-- state or case version conflict (nothing changed, the lease is kept).

local pos = 7
local function take()
  local v = ARGV[pos]
  pos = pos + 1
  return v
end
local function take_list()
  local list = {}
  for i = 1, tonumber(take()) do
    list[i] = take()
  end
  return list
end

-- One event's record, read whole so that a conflict can skip it.
local function read_commit()
  local c = {id = take(), conv = take(), state_op = take()}
  if c.state_op ~= '0' then
    c.expected = tonumber(take())
    if c.state_op == '1' then
      c.state = take()
    end
  end
  c.checks = {}
  for i = 1, tonumber(take()) do
    c.checks[i] = {take(), tonumber(take())}
  end
  c.outbox = {}
  for i = 1, tonumber(take()) do
    c.outbox[i] = {take(), take()}
  end
  c.cases = {}
  for i = 1, tonumber(take()) do
    local case = {number = take()}
    if take() == '1' then
      case.body = take()
    end
    case.history = take_list()
    case.remove = take_list()
    case.add = take_list()
    c.cases[i] = case
  end
  c.cancel = take_list()
  c.timers = {}
  for i = 1, tonumber(take()) do
    c.timers[i] = {take(), take(), take()}
  end
  return c
end

local pipe = ARGV[4]
local function case_version(number)
  local v = redis.call('GET', pipe .. 'case-v:' .. number)
  if v then
    return tonumber(v)
  end
  return redis.call('EXISTS', pipe .. 'case:' .. number)
end

local function complete(c, done, ev, list, state_key)
  if not still_claimed(done, ev, c.conv) then
    return 0
  end
  if c.state_op ~= '0' then
    local current = tonumber(redis.call('HGET', state_key, 'v')) or 0
    if current ~= c.expected then
      return -1
    end
  end
  for _, check in ipairs(c.checks) do
    if case_version(check[1]) ~= check[2] then
      return -1
    end
  end

  -- Checks passed: from here on everything is applied.
  if c.state_op == '1' then
    redis.call('HINCRBY', state_key, 'v', 1)
    redis.call('HSET', state_key, 'd', c.state)
    redis.call('PEXPIRE', state_key, ARGV[5])
  elseif c.state_op == '2' then
    redis.call('DEL', state_key)
  end

  for _, item in ipairs(c.outbox) do
    local member = string.format('%020d', redis.call('INCR', KEYS[4]))
    redis.call('HSET', ARGV[3] .. member, 'c', item[1], 'p', item[2], 'f', 0)
    redis.call('ZADD', KEYS[5], ARGV[1], member)
  end

  for _, case in ipairs(c.cases) do
    local number = case.number
    if case.body then
      redis.call('SET', pipe .. 'case-v:' .. number, case_version(number) + 1)
      redis.call('SET', pipe .. 'case:' .. number, case.body)
    end
    for _, entry in ipairs(case.history) do
      redis.call('RPUSH', pipe .. 'case-log:' .. number, entry)
    end
    for _, index in ipairs(case.remove) do
      redis.call('ZREM', pipe .. 'case-ix:' .. index, number)
    end
    for _, index in ipairs(case.add) do
      local key = pipe .. 'case-ix:' .. index
      if not redis.call('ZSCORE', key, number) then
        redis.call('ZADD', key, redis.call('INCR', KEYS[6]), number)
      end
    end
  end

  for _, id in ipairs(c.cancel) do
    redis.call('ZREM', KEYS[7], id)
    redis.call('HDEL', KEYS[8], id)
  end
  for _, timer in ipairs(c.timers) do
    redis.call('ZADD', KEYS[7], timer[2], timer[1])
    redis.call('HSET', KEYS[8], timer[1], timer[3])
  end

  finish_event(c.id, c.conv, done, ev, list, KEYS[1], KEYS[2], KEYS[3], ARGV[2])
  return 1
end

local outcomes = {}
for i = 1, tonumber(ARGV[6]) do
  local base = 8 + 4 * (i - 1)
  outcomes[i] = complete(read_commit(), KEYS[base + 1], KEYS[base + 2], KEYS[base + 3],
    KEYS[base + 4])
end
return outcomes
