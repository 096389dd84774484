-- Cancel a timer. KEYS[1] timer due zset, KEYS[2] timer data hash; ARGV[1] id.
-- Returns 1 if it was pending, else 0.
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('ZREM', KEYS[1], ARGV[1])
