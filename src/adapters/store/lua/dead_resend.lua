-- Queue dead letters again as new deliveries (no failures, due now) and drop them from the
-- dead letters; with no member given, all of them.
-- KEYS[1] due zset, KEYS[2] dead-letter list
-- ARGV[1] now_ms, ARGV[2] outbox item prefix ({pipe}), ARGV[3..] members to resend
-- Returns the members queued, oldest dead letter first.
local wanted = {}
for i = 3, #ARGV do wanted[ARGV[i]] = true end
local all = #ARGV < 3
local entries = redis.call('LRANGE', KEYS[2], 0, -1)
local out = {}
for i = #entries, 1, -1 do
  local d = cjson.decode(entries[i])
  if all or wanted[d.id] then
    local item = ARGV[2] .. d.id
    if redis.call('EXISTS', item) == 0 then
      redis.call('HSET', item, 'c', d.channel, 'p', d.payload, 'f', 0)
      redis.call('ZADD', KEYS[1], ARGV[1], d.id)
      out[#out + 1] = d.id
    end
    redis.call('LREM', KEYS[2], 1, entries[i])
  end
end
return out
