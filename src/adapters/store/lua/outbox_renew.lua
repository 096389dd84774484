-- Extend the leases of items still in flight (an item completed, deferred, failed or taken
-- over meanwhile is left alone).
-- KEYS[1] inflight zset; ARGV[1] lease until (ms), ARGV[2..] members
-- Returns how many leases were extended.
local n = 0
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
    n = n + 1
  end
end
return n
