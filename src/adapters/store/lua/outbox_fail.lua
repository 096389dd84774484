-- Count a failed delivery: reschedule at ARGV[3], or dead-letter when ARGV[3] is empty.
-- KEYS[1] due zset, KEYS[2] inflight zset, KEYS[3] item hash, KEYS[4] dead-letter list
-- ARGV[1] member, ARGV[2] error, ARGV[3] retry_at_ms or '', ARGV[4] now_ms, ARGV[5] cap,
-- ARGV[6] when the failed attempt started if its outcome is unknown, or ''
-- The first failure's time 'ff' and the first unknown outcome 'u' are kept once set.
-- Returns 1 rescheduled, 2 dead-lettered (also for an unknown item, nothing changed).
if redis.call('EXISTS', KEYS[3]) == 0 then
  if ARGV[3] == '' then return 2 end
  return 1
end
local failures = redis.call('HINCRBY', KEYS[3], 'f', 1)
redis.call('HSETNX', KEYS[3], 'ff', ARGV[4])
if ARGV[6] ~= '' then
  redis.call('HSETNX', KEYS[3], 'u', ARGV[6])
end
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
local f = redis.call('HMGET', KEYS[3], 'c', 'p')
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[3])
redis.call('LPUSH', KEYS[4], cjson.encode({
  id = ARGV[1], channel = f[1], payload = f[2], failures = tostring(failures),
  error = ARGV[2], at = ARGV[4],
}))
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[5]) - 1)
return 2
