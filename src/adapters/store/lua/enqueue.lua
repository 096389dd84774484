-- Dedupe + enqueue in one step (the HTTP callback's hot path).
-- KEYS[1] dedupe key, KEYS[2] event id counter, KEYS[3] ready zset, KEYS[4] leased zset,
-- KEYS[5] conversation list, KEYS[6] event count
-- ARGV[1] now_ms, ARGV[2] expires_at_ms, ARGV[3] ttl_ms, ARGV[4] event key prefix ({pipe}),
-- ARGV[5] conversation, ARGV[6] payload
-- Returns {1, id} when queued, {0, original id} for a duplicate.
local prev = redis.call('GET', KEYS[1])
if prev then
  local id, exp = string.match(prev, '^(%d+):(%-?%d+)$')
  if id and tonumber(exp) > tonumber(ARGV[1]) then
    return {0, tonumber(id)}
  end
end
local id = redis.call('INCR', KEYS[2])
redis.call('HSET', ARGV[4] .. id, 'c', ARGV[5], 'p', ARGV[6], 'a', 0, 't', ARGV[1])
redis.call('RPUSH', KEYS[5], id)
if not redis.call('ZSCORE', KEYS[4], ARGV[5]) then
  -- NX: a conversation already ready keeps the score of its (older) head.
  redis.call('ZADD', KEYS[3], 'NX', id, ARGV[5])
end
redis.call('INCR', KEYS[6])
redis.call('SET', KEYS[1], id .. ':' .. ARGV[2], 'PX', ARGV[3])
return {1, id}
