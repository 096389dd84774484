-- Complete an event with everything its handling changed, in one step: state CAS, cases, outbox
-- items, done marker, pop it, release and re-ready the conversation.
-- KEYS[1] done marker, KEYS[2] event hash, KEYS[3] conversation list, KEYS[4] ready zset,
-- KEYS[5] leased zset, KEYS[6] event count, KEYS[7] outbox id counter, KEYS[8] outbox due zset,
-- KEYS[9] conversation state hash, KEYS[10] case index position counter, KEYS[11] timer due
-- zset, KEYS[12] timer data hash
-- ARGV[1] event id, ARGV[2] conversation, ARGV[3] now_ms, ARGV[4] done marker ttl ms,
-- ARGV[5] outbox item prefix ({pipe}), ARGV[6] bare '<prefix>:{pipe}:' (case keys are built
-- from it, see keys.rs), ARGV[7] state ttl ms, then a flat record from ARGV[8] on:
--   state:  '0' (untouched) | '1', expected version, new state | '2', expected version (delete)
--   checks: n, then n (case number, expected case version) pairs
--   outbox: n, then n (channel, payload) pairs
--   cases:  n, then per case: number, '1' body | '0', n history entries..., n removed
--           indexes..., n added indexes...
--   timers: n cancelled, then n ids; n scheduled, then n (id, due_ms, encoded data) triples
-- A case's version is `case-v:<number>`; a body without it (written before versions existed)
-- counts as version 1, no body as version 0.
-- Returns 1 committed, 0 already done or unknown (nothing changed), -1 state or case version
-- conflict (nothing changed, the lease is kept).
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
if redis.call('HGET', KEYS[2], 'c') ~= ARGV[2] then
  return 0
end

local pos = 8
local function take()
  local v = ARGV[pos]
  pos = pos + 1
  return v
end

local state_op = take()
local new_state
if state_op ~= '0' then
  local expected = tonumber(take())
  if state_op == '1' then
    new_state = take()
  end
  local current = tonumber(redis.call('HGET', KEYS[9], 'v')) or 0
  if current ~= expected then
    return -1
  end
end

local pipe = ARGV[6]
local function case_version(number)
  local v = redis.call('GET', pipe .. 'case-v:' .. number)
  if v then
    return tonumber(v)
  end
  return redis.call('EXISTS', pipe .. 'case:' .. number)
end

for _ = 1, tonumber(take()) do
  local number, expected = take(), tonumber(take())
  if case_version(number) ~= expected then
    return -1
  end
end

-- Checks passed: from here on everything is applied.
if state_op == '1' then
  redis.call('HINCRBY', KEYS[9], 'v', 1)
  redis.call('HSET', KEYS[9], 'd', new_state)
  redis.call('PEXPIRE', KEYS[9], ARGV[7])
elseif state_op == '2' then
  redis.call('DEL', KEYS[9])
end

for _ = 1, tonumber(take()) do
  local channel, payload = take(), take()
  local member = string.format('%020d', redis.call('INCR', KEYS[7]))
  redis.call('HSET', ARGV[5] .. member, 'c', channel, 'p', payload, 'f', 0)
  redis.call('ZADD', KEYS[8], ARGV[3], member)
end

for _ = 1, tonumber(take()) do
  local number = take()
  if take() == '1' then
    redis.call('SET', pipe .. 'case-v:' .. number, case_version(number) + 1)
    redis.call('SET', pipe .. 'case:' .. number, take())
  end
  for _ = 1, tonumber(take()) do
    redis.call('RPUSH', pipe .. 'case-log:' .. number, take())
  end
  for _ = 1, tonumber(take()) do
    redis.call('ZREM', pipe .. 'case-ix:' .. take(), number)
  end
  for _ = 1, tonumber(take()) do
    local index = pipe .. 'case-ix:' .. take()
    if not redis.call('ZSCORE', index, number) then
      redis.call('ZADD', index, redis.call('INCR', KEYS[10]), number)
    end
  end
end

for _ = 1, tonumber(take()) do
  local id = take()
  redis.call('ZREM', KEYS[11], id)
  redis.call('HDEL', KEYS[12], id)
end
for _ = 1, tonumber(take()) do
  local id, due, data = take(), take(), take()
  redis.call('ZADD', KEYS[11], due, id)
  redis.call('HSET', KEYS[12], id, data)
end

if redis.call('LINDEX', KEYS[3], 0) == ARGV[1] then
  redis.call('LPOP', KEYS[3])
else
  redis.call('LREM', KEYS[3], 1, ARGV[1])
end
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[1], 1, 'PX', ARGV[4])
redis.call('DECR', KEYS[6])
redis.call('ZREM', KEYS[5], ARGV[2])
local next_head = redis.call('LINDEX', KEYS[3], 0)
if next_head then
  redis.call('ZADD', KEYS[4], next_head, ARGV[2])
end
return 1
