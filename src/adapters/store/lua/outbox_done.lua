-- Remove a delivered outbox item.
-- KEYS[1] due zset, KEYS[2] inflight zset, KEYS[3] item hash; ARGV[1] member
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[3])
