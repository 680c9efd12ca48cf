--[[
  One step of a takeover's claim of the entries earlier owners left pending (XAUTOCLAIM), but
  only for the holder of the partition's lease. An instance that won a lease and then paused past
  it would otherwise, on resuming, move the pending entries of the owner after it into its own
  pending list, where that owner (reading its own pending entries) never finds them. The lease
  and the stream share a hash tag, so this stays within one Redis Cluster slot.

  KEYS[1] lease key of the partition
  KEYS[2] the partition stream
  ARGV[1] holder (the claimer's consumer name, the lease's value while it holds it)
  ARGV[2] consumer group (the sink)
  ARGV[3] consumer (the claimer's consumer name)
  ARGV[4] cursor: the id to go on from (`0-0` at first)
  ARGV[5] most entries to claim in this step

  Output: 0 (an integer) when the lease is not the holder's: nothing was claimed. Otherwise
  XAUTOCLAIM's reply with JUSTID: the cursor of the next step (`0-0`: done), the ids claimed,
  and the ids of pending entries deleted from the stream (Redis 7).
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
return redis.call('XAUTOCLAIM', KEYS[2], ARGV[2], ARGV[3], 0, ARGV[4], 'COUNT', ARGV[5],
  'JUSTID')
