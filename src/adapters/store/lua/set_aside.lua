-- Set a claimed event aside in one step: kept in the set-aside hash with why, then completed
-- without effect exactly as complete_event.lua completes one (popped, done marker, count,
-- its conversation released and readied with its next event).
-- KEYS[1] done marker, KEYS[2] event hash, KEYS[3] conversation list, KEYS[4] ready zset,
-- KEYS[5] leased zset, KEYS[6] event count, KEYS[7] set-aside hash
-- ARGV[1] event id, ARGV[2] conversation, ARGV[3] done marker ttl ms, ARGV[4] reason,
-- ARGV[5] now_ms
-- Returns 1 set aside, 0 already done or unknown.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
if redis.call('HGET', KEYS[2], 'c') ~= ARGV[2] then
  return 0
end
local record = cjson.encode({
  event_id = tonumber(ARGV[1]),
  conversation = ARGV[2],
  payload = redis.call('HGET', KEYS[2], 'p'),
  attempts = tonumber(redis.call('HGET', KEYS[2], 'a')) or 0,
  reason = ARGV[4],
  at_ms = tonumber(ARGV[5]),
})
redis.call('HSET', KEYS[7], ARGV[1], record)
if redis.call('LINDEX', KEYS[3], 0) == ARGV[1] then
  redis.call('LPOP', KEYS[3])
else
  redis.call('LREM', KEYS[3], 1, ARGV[1])
end
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[1], 1, 'PX', ARGV[3])
redis.call('DECR', KEYS[6])
redis.call('ZREM', KEYS[5], ARGV[2])
local next_head = redis.call('LINDEX', KEYS[3], 0)
if next_head then
  redis.call('ZADD', KEYS[4], next_head, ARGV[2])
end
return 1
