--[[
  Gives a partition lease up, but only if the caller still holds it.

  KEYS[1] lease key
  ARGV[1] holder (consumer name)

  Output: 1 when released, 0 when it was not held by the caller
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
