-- Put an outbox item back, due at ARGV[2], without counting a failure.
-- KEYS[1] due zset, KEYS[2] inflight zset, KEYS[3] item hash; ARGV[1] member, ARGV[2] due_ms
if redis.call('EXISTS', KEYS[3]) == 0 then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
