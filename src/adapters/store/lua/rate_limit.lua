-- Exact sliding-window log: the window is (now - window, now].
-- KEYS[1] log zset; ARGV[1] now_ms, ARGV[2] window ms, ARGV[3] limit, ARGV[4] unique member
-- Returns {1, 0} allowed, {0, retry_after_ms} denied.
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window + 1000)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #oldest == 0 then
  return {0, window}
end
return {0, math.max(tonumber(oldest[2]) + window - now, 1)}
