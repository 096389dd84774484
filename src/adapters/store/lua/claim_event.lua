-- Release expired conversation leases, then lease the ready conversation with the oldest head.
-- KEYS[1] ready zset, KEYS[2] leased zset
-- ARGV[1] now_ms, ARGV[2] lease until (ms), ARGV[3] conversation list prefix ({pipe}),
-- ARGV[4] event key prefix ({pipe})
-- Returns {id, conversation, payload, attempt} or nil.
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 1000)
for _, conv in ipairs(expired) do
  redis.call('ZREM', KEYS[2], conv)
  local head = redis.call('LINDEX', ARGV[3] .. conv, 0)
  if head then
    redis.call('ZADD', KEYS[1], head, conv)
  end
end
while true do
  local popped = redis.call('ZPOPMIN', KEYS[1])
  if #popped == 0 then
    return false
  end
  local conv = popped[1]
  local head = redis.call('LINDEX', ARGV[3] .. conv, 0)
  if head then
    local ev = ARGV[4] .. head
    local attempt = redis.call('HINCRBY', ev, 'a', 1)
    local payload = redis.call('HGET', ev, 'p')
    redis.call('ZADD', KEYS[2], ARGV[2], conv)
    return {tonumber(head), conv, payload, attempt}
  end
  -- An empty conversation in ready (should not happen): dropped, try the next.
end
