-- Set a claimed event aside in one step: kept in the set-aside hash with why, then completed
-- without effect exactly as complete_events.lua completes one (`finish_event`, from
-- finish_event.lua: popped, done marker, count, its conversation released and readied with
-- its next event).
-- KEYS[1] done marker, KEYS[2] event hash, KEYS[3] conversation list, KEYS[4] ready zset,
-- KEYS[5] leased zset, KEYS[6] event count, KEYS[7] set-aside hash
-- ARGV[1] event id, ARGV[2] conversation, ARGV[3] done marker ttl ms, ARGV[4] reason,
-- ARGV[5] now_ms
-- Returns 1 set aside, 0 already done or unknown.
if not still_claimed(KEYS[1], KEYS[2], ARGV[2]) then
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
finish_event(ARGV[1], ARGV[2], KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[3])
return 1
