#!lua flags=allow-cross-slot-keys
-- Delete every key of this node that matches ARGV[1] (a SCAN MATCH pattern), for tests and
-- tools that clean up one prefix; never FLUSHALL. On a cluster it is sent to every master, each
-- deleting its own keys. Returns how many keys it deleted.
local cursor = '0'
local deleted = 0
repeat
  local page = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = page[1]
  for _, key in ipairs(page[2]) do
    deleted = deleted + redis.call('DEL', key)
  end
until cursor == '0'
return deleted
