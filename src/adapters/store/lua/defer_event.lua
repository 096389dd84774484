-- Hand a claimed event back untouched (a dependency is unavailable): its conversation stays
-- leased until ARGV[3], when the event is handed out again; the claim is not counted as an
-- attempt; the notice items (if any) are queued in the outbox. One step.
-- KEYS[1] event hash, KEYS[2] leased zset, KEYS[3] conversation list, KEYS[4] outbox id
-- counter, KEYS[5] outbox due zset
-- ARGV[1] event id, ARGV[2] conversation, ARGV[3] until_ms, ARGV[4] now_ms, ARGV[5] outbox item
-- prefix ({pipe}), ARGV[6] n, then n (channel, payload) pairs
-- Returns 1 deferred, 0 when the event is no longer this claim's (completed or released).
if redis.call('HGET', KEYS[1], 'c') ~= ARGV[2] then
  return 0
end
if redis.call('LINDEX', KEYS[3], 0) ~= ARGV[1] then
  return 0
end
if not redis.call('ZSCORE', KEYS[2], ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'a', -1)
for i = 0, tonumber(ARGV[6]) - 1 do
  local member = string.format('%020d', redis.call('INCR', KEYS[4]))
  redis.call('HSET', ARGV[5] .. member, 'c', ARGV[7 + 2 * i], 'p', ARGV[8 + 2 * i], 'f', 0)
  redis.call('ZADD', KEYS[5], ARGV[4], member)
end
return 1
