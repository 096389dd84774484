-- Return expired in-flight items to due, then lease up to max due items in due order.
-- KEYS[1] due zset, KEYS[2] inflight zset
-- ARGV[1] now_ms, ARGV[2] lease until (ms), ARGV[3] max, ARGV[4] outbox item prefix ({pipe})
-- An item whose lease expired was claimed by a sender that died or stalled, maybe while
-- sending: from its claim time 'k' on, its outcome is unknown ('u', kept once set).
-- Returns {{member, channel, payload, failures, first failed or false, unknown since or false}, ...}.
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, 1000)
for i = 1, #expired, 2 do
  local item = ARGV[4] .. expired[i]
  redis.call('ZREM', KEYS[2], expired[i])
  redis.call('ZADD', KEYS[1], expired[i + 1], expired[i])
  local claimed = redis.call('HGET', item, 'k')
  if claimed then
    redis.call('HSETNX', item, 'u', claimed)
  end
end
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local out = {}
for _, m in ipairs(members) do
  redis.call('ZREM', KEYS[1], m)
  redis.call('ZADD', KEYS[2], ARGV[2], m)
  local f = redis.call('HMGET', ARGV[4] .. m, 'c', 'p', 'f', 'ff', 'u')
  if f[1] then
    redis.call('HSET', ARGV[4] .. m, 'k', ARGV[1])
  end
  out[#out + 1] = {m, f[1], f[2], f[3], f[4], f[5]}
end
return out
