-- Fire due timers: take up to `limit` in due order, queue each as an event of its conversation
-- (the logic of enqueue.lua, with dedupe key 'timer:<id>:<due_ms>'), remove it. One script, so
-- concurrent schedulers (replicas) never take the same timer.
-- KEYS[1] timer due zset, KEYS[2] timer data hash, KEYS[3] event id counter, KEYS[4] ready zset,
-- KEYS[5] leased zset, KEYS[6] event count
-- ARGV[1] now_ms, ARGV[2] limit, ARGV[3] dedupe ttl ms, ARGV[4] event key prefix ({pipe}),
-- ARGV[5] conversation list prefix ({pipe}), ARGV[6] dedupe key prefix ({pipe})
-- Returns the ids taken, in due order.
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[2])
local fired = {}
for i = 1, #due, 2 do
  local id, score = due[i], due[i + 1]
  local data = redis.call('HGET', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  if data then
    local len, rest = string.match(data, '^(%d+):(.*)$')
    local conv = string.sub(rest, 1, tonumber(len))
    local payload = string.sub(rest, tonumber(len) + 1)
    local dd = ARGV[6] .. 'timer:' .. id .. ':' .. string.format('%.0f', tonumber(score))
    local prev = redis.call('GET', dd)
    local seen = false
    if prev then
      local exp = string.match(prev, '^%d+:(%-?%d+)$')
      seen = exp ~= nil and tonumber(exp) > now
    end
    if not seen then
      local ev = redis.call('INCR', KEYS[3])
      redis.call('HSET', ARGV[4] .. ev, 'c', conv, 'p', payload, 'a', 0, 't', ARGV[1])
      redis.call('RPUSH', ARGV[5] .. conv, ev)
      if not redis.call('ZSCORE', KEYS[5], conv) then
        redis.call('ZADD', KEYS[4], 'NX', ev, conv)
      end
      redis.call('INCR', KEYS[6])
      redis.call('SET', dd, ev .. ':' .. (now + tonumber(ARGV[3])), 'PX', ARGV[3])
    end
  end
  fired[#fired + 1] = id
end
return fired
