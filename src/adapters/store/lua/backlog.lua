-- The pipeline's backlog, for the metrics (reads only): when the oldest queued event was queued
-- and how many timers are overdue. The oldest event is the head of a conversation: of a ready
-- one (the ready zset is scored by head id) or of a leased one.
-- KEYS[1] ready zset, KEYS[2] leased zset, KEYS[3] timer due zset
-- ARGV[1] now_ms, ARGV[2] conversation list prefix ({pipe}), ARGV[3] event key prefix ({pipe})
-- Returns {queued at ms, or -1 when the queue is empty or the time unknown; overdue timers}.
local oldest = nil
local ready = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #ready == 2 then
  oldest = tonumber(ready[2])
end
for _, conv in ipairs(redis.call('ZRANGE', KEYS[2], 0, 999)) do
  local head = redis.call('LINDEX', ARGV[2] .. conv, 0)
  if head and (oldest == nil or tonumber(head) < oldest) then
    oldest = tonumber(head)
  end
end
local at = -1
if oldest then
  local t = redis.call('HGET', ARGV[3] .. string.format('%.0f', oldest), 't')
  if t then
    at = tonumber(t)
  end
end
return {at, redis.call('ZCOUNT', KEYS[3], '-inf', ARGV[1])}
