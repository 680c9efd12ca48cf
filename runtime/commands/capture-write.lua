--[[
  Writes changes of one partition atomically, each write its cache value and its change event
  together or neither. A single write (upsert, delete, patch) is a call with one write; a batch
  sends its writes of one partition in chunks.

  Per write:
  - With an idempotency key, a repeat within its window returns the first event id and writes
    nothing.
  - With an expected version (compare-and-set, used by patches), the write happens only if the
    cached event id is still that version.
  - Upsert: XADD the event, then HSET the cache hash (d = JSON record, v = event id, s = schema id).
    Delete: XADD the delete event (always, even when the key was not cached: the cache may have
    been evicted while the sinks still hold the row), then DEL the cache hash.
  The event's fields come encoded by the envelope codec; this script does not interpret them. The
  field names come once per call and each write sends only values, because per-argument costs
  would otherwise dominate a batch. The stream is never trimmed here: retention must not cut what
  a consumer group still needs. Each write is atomic; the whole call runs without interleaving.

  KEYS[1]   the partition stream
  KEYS[2…]  per write: its cache key, then its idempotency record key if it has an idempotency key

  ARGV[1]  n, the number of writes
  ARGV[2]  idempotency window, ms
  ARGV[3]  m, the number of event fields: those some write of the call has
  ARGV[4]  position (1-based, among the m values) of the schema id, kept in the cache
           (0 when no write of the call is an upsert)
  ARGV[5 … 4+m]  the event field names
  then, per write, 4 + m arguments:
    "u" (write the cache) or "d" (remove it), the record JSON ("" for a delete),
    expected cached version for compare-and-set ("" none, "-" not cached),
    the idempotency key or "",
    the m field values in name order, "" for a field the event does not have

  Output: a flat array, per write: event id, then 1 (written), 0 (idempotent repeat: the first
          event id) or -1 (VERSION_MISMATCH: "" as id)
]]
-- Locals instead of globals, one fields table for every write, and no table grown by `#`: this
-- runs on every single write, where each microsecond shows in the latency.
local argv, keys, call = ARGV, KEYS, redis.call
local n, window, m, sidAt = tonumber(argv[1]), argv[2], tonumber(argv[3]), tonumber(argv[4])
local pos = 5 + m
local key = 2
local out = {}
local fields = {}
for w = 1, n do
  local op, json, expected, idem = argv[pos], argv[pos + 1], argv[pos + 2], argv[pos + 3]
  local first = pos + 4
  pos = first + m
  local cacheKey = keys[key]
  local idemKey = nil
  key = key + 1
  if idem ~= '' then
    idemKey = keys[key]
    key = key + 1
  end

  local previous = idemKey and call('GET', idemKey)
  if previous then
    out[2 * w - 1] = previous
    out[2 * w] = 0
  elseif expected ~= '' and (call('HGET', cacheKey, 'v') or '-') ~= expected then
    out[2 * w - 1] = ''
    out[2 * w] = -1
  else
    local count = 0
    for j = 1, m do
      local value = argv[first + j - 1]
      if value ~= '' then
        fields[count + 1] = argv[4 + j]
        fields[count + 2] = value
        count = count + 2
      end
    end
    local id = call('XADD', keys[1], '*', unpack(fields, 1, count))
    if op == 'u' then
      call('HSET', cacheKey, 'd', json, 'v', id, 's', argv[first + sidAt - 1])
    else
      call('DEL', cacheKey)
    end
    if idemKey then
      call('SET', idemKey, id, 'PX', window)
    end
    out[2 * w - 1] = id
    out[2 * w] = 1
  end
end
return out
