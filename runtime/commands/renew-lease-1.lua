--[[
  Extends a partition lease, but only for its current holder.

  KEYS[1] lease key
  ARGV[1] holder (consumer name)
  ARGV[2] lease time, ms

  Output: 1 when extended, 0 when the lease is held by someone else or expired
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
