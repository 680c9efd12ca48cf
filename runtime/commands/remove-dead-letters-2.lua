--[[
  Removes dead letters (re-applied or skipped) and their index entries, so that the same source
  entry can be dead-lettered again if a replay fails on it again.

  KEYS[1] the sink's dead-letter stream
  KEYS[2] its index (see add-dead-letter-2.lua)
  ARGV    dead-letter ids

  Output: the number of entries deleted from the stream
]]
local deleted = 0
for _, id in ipairs(ARGV) do
  local source = redis.call('HGET', KEYS[2], id)
  if source then
    redis.call('HDEL', KEYS[2], id, source)
  end
  deleted = deleted + redis.call('XDEL', KEYS[1], id)
end
return deleted
