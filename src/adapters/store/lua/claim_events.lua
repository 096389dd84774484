-- Release expired conversation leases, then lease up to ARGV[5] ready conversations, oldest head
-- first, handing out each one's head event together with the conversation's stored state (what
-- handling it needs, so the worker makes no second round trip).
-- KEYS[1] ready zset, KEYS[2] leased zset
-- ARGV[1] now_ms, ARGV[2] lease until (ms), ARGV[3] conversation list prefix ({pipe}),
-- ARGV[4] event key prefix ({pipe}), ARGV[5] most events, ARGV[6] state hash prefix ({pipe})
-- Returns a list of {id, conversation, payload, attempt, state version or nil, state or nil}.
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 1000)
for _, conv in ipairs(expired) do
  redis.call('ZREM', KEYS[2], conv)
  local head = redis.call('LINDEX', ARGV[3] .. conv, 0)
  if head then
    redis.call('ZADD', KEYS[1], head, conv)
  end
end
local claimed = {}
local most = tonumber(ARGV[5])
while #claimed < most do
  local popped = redis.call('ZPOPMIN', KEYS[1])
  if #popped == 0 then
    break
  end
  local conv = popped[1]
  local head = redis.call('LINDEX', ARGV[3] .. conv, 0)
  if head then
    local ev = ARGV[4] .. head
    local attempt = redis.call('HINCRBY', ev, 'a', 1)
    local payload = redis.call('HGET', ev, 'p')
    redis.call('ZADD', KEYS[2], ARGV[2], conv)
    local state = redis.call('HMGET', ARGV[6] .. conv, 'v', 'd')
    claimed[#claimed + 1] = {tonumber(head), conv, payload, attempt, state[1], state[2]}
  end
  -- An empty conversation in ready (should not happen): dropped, try the next.
end
return claimed
