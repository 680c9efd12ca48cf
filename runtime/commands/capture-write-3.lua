--[[
  Writes one change atomically: the cache value and its change event, or neither.

  Upsert: HSET the cache hash (d = JSON record, v = event id, s = schema id) and XADD the event.
  Delete: DEL the cache hash and XADD the delete event (always, even when the key was not cached:
  the cache may have been evicted while the sinks still hold the row).
  With an idempotency key, a repeat within its window returns the first event id and writes
  nothing. With an expected version (compare-and-set, used by partial updates), the write happens
  only if the cached event id is still that version.
  The event's fields come encoded by the envelope codec; this script does not interpret them.
  The stream is never trimmed here: retention must not cut what a consumer group still needs.

  KEYS[1] cache key of the entity key
  KEYS[2] partition stream
  KEYS[3] idempotency record key (only used when ARGV[4] is not empty)

  ARGV[1]  "u" (upsert: write the cache) or "d" (delete: remove it)
  ARGV[2]  cache value: the record as JSON ("" for a delete)
  ARGV[3]  writer schema id ("" for a delete)
  ARGV[4]  idempotency key, or ""
  ARGV[5]  idempotency window, ms
  ARGV[6]  expected cached event id for compare-and-set: "" for none, "-" for "not cached"
  ARGV[7…] the event's stream entry fields: name, value, name, value, …

  Output: {event id, 1} for a new event, {first event id, 0} for an idempotent repeat
          -1 (VERSION_MISMATCH) when the cached version is not ARGV[6]
]]
if ARGV[4] ~= '' then
  local previous = redis.call('GET', KEYS[3])
  if previous then
    return {previous, 0}
  end
end

if ARGV[6] ~= '' then
  local current = redis.call('HGET', KEYS[1], 'v')
  if (current or '-') ~= ARGV[6] then
    return -1
  end
end

local id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 7))

if ARGV[1] == 'u' then
  redis.call('HSET', KEYS[1], 'd', ARGV[2], 'v', id, 's', ARGV[3])
else
  redis.call('DEL', KEYS[1])
end

if ARGV[4] ~= '' then
  redis.call('SET', KEYS[3], id, 'PX', ARGV[5])
end
return {id, 1}
