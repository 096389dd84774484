-- Complete an event: done marker, pop it, queue outbox items, release and re-ready the
-- conversation. Idempotent: returns 0 and changes nothing if already done or unknown.
-- KEYS[1] done marker, KEYS[2] event hash, KEYS[3] conversation list, KEYS[4] ready zset,
-- KEYS[5] leased zset, KEYS[6] event count, KEYS[7] outbox id counter, KEYS[8] outbox due zset
-- ARGV[1] event id, ARGV[2] conversation, ARGV[3] now_ms, ARGV[4] done marker ttl ms,
-- ARGV[5] outbox item prefix ({pipe}), ARGV[6..] channel, payload pairs
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
if redis.call('HGET', KEYS[2], 'c') ~= ARGV[2] then
  return 0
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
for i = 6, #ARGV, 2 do
  local member = string.format('%020d', redis.call('INCR', KEYS[7]))
  redis.call('HSET', ARGV[5] .. member, 'c', ARGV[i], 'p', ARGV[i + 1], 'f', 0)
  redis.call('ZADD', KEYS[8], ARGV[3], member)
end
return 1
