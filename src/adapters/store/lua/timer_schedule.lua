-- Schedule (or move) a timer.
-- KEYS[1] timer due zset, KEYS[2] timer data hash
-- ARGV[1] id, ARGV[2] due_ms, ARGV[3] encoded data ('<conversation length>:<conversation><payload>')
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
