--[[
  Reads a partition stream through the sink's consumer group, but only for the holder of the
  partition's lease. A plain XREADGROUP from an instance whose lease expired while it was paused
  (a long collection, a frozen VM) would deliver entries into its pending list, where the new
  owner, which read its own pending entries at takeover and reads new ones with `>` since, never
  looks: the former owner drops them (it no longer owns the partition) and they are lost. Checking
  the lease and reading in one script leaves no moment between the two. The lease and the stream
  share a hash tag, so this stays within one Redis Cluster slot.

  Never blocks (scripts cannot): when nothing new was read, the stream's last entry id comes back
  instead, for a plain XREAD BLOCK from it (which delivers nothing to the group) to wait on
  without missing an entry added in between; the read is then made again through this script.

  KEYS[1] lease key of the partition
  KEYS[2] the partition stream
  ARGV[1] holder (the reader's consumer name, the lease's value while it holds it)
  ARGV[2] consumer group (the sink)
  ARGV[3] consumer (the reader's consumer name)
  ARGV[4] most entries to read
  ARGV[5] where to read from: an id (this consumer's pending entries after it) or `>` (new ones)

  Output:
    0 (an integer) when the lease is not the holder's: nothing was read.
    XREADGROUP's reply when it read entries, or for a read of pending entries (whose empty
    reply tells the reader it has read them all).
    The id of the stream's last entry (`0-0` for an empty stream), as a string, when a read of
    new entries found none.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local read = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4],
  'STREAMS', KEYS[2], ARGV[5])
if read or ARGV[5] ~= '>' then
  return read
end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #last == 0 then
  return '0-0'
end
return last[1][1]
