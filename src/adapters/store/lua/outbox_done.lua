-- Remove delivered outbox items.
-- KEYS[1] due zset, KEYS[2] inflight zset; ARGV[1] item key prefix ({pipe}), ARGV[2..] members
-- Returns how many items were removed.
local removed = 0
for i = 2, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
  removed = removed + redis.call('DEL', ARGV[1] .. ARGV[i])
end
return removed
