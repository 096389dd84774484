-- Take a lock unless held and unexpired at now. Value: '<expires_at_ms>:<token>'.
-- KEYS[1] lock; ARGV[1] now_ms, ARGV[2] expires_at_ms, ARGV[3] token, ARGV[4] ttl ms (cleanup)
local v = redis.call('GET', KEYS[1])
if v then
  local exp = tonumber(string.match(v, '^(%-?%d+):'))
  if exp and exp > tonumber(ARGV[1]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[2] .. ':' .. ARGV[3], 'PX', ARGV[4])
return 1
