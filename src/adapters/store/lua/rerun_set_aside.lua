-- Queue a set-aside event again at the end of its conversation (as enqueue.lua queues one,
-- without a dedupe key) and drop it from the set-aside hash, in one step.
-- KEYS[1] set-aside hash, KEYS[2] event id counter, KEYS[3] ready zset, KEYS[4] leased zset,
-- KEYS[5] event count
-- ARGV[1] set-aside event id, ARGV[2] event key prefix ({pipe}), ARGV[3] conversation list
-- prefix ({pipe})
-- Returns the new event's id, 0 when nothing is set aside under ARGV[1].
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then
  return 0
end
local r = cjson.decode(raw)
local id = redis.call('INCR', KEYS[2])
redis.call('HSET', ARGV[2] .. id, 'c', r.conversation, 'p', r.payload, 'a', 0)
redis.call('RPUSH', ARGV[3] .. r.conversation, id)
if not redis.call('ZSCORE', KEYS[4], r.conversation) then
  redis.call('ZADD', KEYS[3], 'NX', id, r.conversation)
end
redis.call('INCR', KEYS[5])
redis.call('HDEL', KEYS[1], ARGV[1])
return id
