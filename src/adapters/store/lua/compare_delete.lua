-- Delete KEYS[1] only if its value is '<expires_at_ms>:<ARGV[1]>' (lock or token).
local v = redis.call('GET', KEYS[1])
if v and string.match(v, '^%-?%d+:(.*)$') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
