-- Shared by complete_events.lua and set_aside.lua (prepended to each when loaded, see
-- redis.rs): how a claimed event is recognised and how it leaves the queue.

-- Whether the claim of event `ev` (its done marker `done`) on conversation `conv` still stands:
-- not done already, and the event still that conversation's.
local function still_claimed(done, ev, conv)
  if redis.call('EXISTS', done) == 1 then
    return false
  end
  return redis.call('HGET', ev, 'c') == conv
end

-- Removes event `id` (hash `ev`) from its conversation's list `list`, marks it done for
-- `ttl_ms`, counts it out of `count`, releases the conversation from `leased` and readies it
-- in `ready` with its next event, if any.
local function finish_event(id, conv, done, ev, list, ready, leased, count, ttl_ms)
  if redis.call('LINDEX', list, 0) == id then
    redis.call('LPOP', list)
  else
    redis.call('LREM', list, 1, id)
  end
  redis.call('DEL', ev)
  redis.call('SET', done, 1, 'PX', ttl_ms)
  redis.call('DECR', count)
  redis.call('ZREM', leased, conv)
  local next_head = redis.call('LINDEX', list, 0)
  if next_head then
    redis.call('ZADD', ready, next_head, conv)
  end
end
