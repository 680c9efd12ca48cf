--[[
  Writes many changes of one partition in one call: for each write, exactly what
  capture-write-3.lua does for one (cache value and event together, idempotency, compare-and-set).
  One call per partition chunk instead of one per write, because the per-call and per-argument
  costs would otherwise dominate a batch: the event's field names come once per call, each write
  sends only values. Each write is atomic; the whole call runs without interleaving.

  KEYS[1]   the partition stream
  KEYS[2…]  per write: its cache key, then its idempotency record key if it has an idempotency key

  ARGV[1]  n, the number of writes
  ARGV[2]  idempotency window, ms
  ARGV[3]  m, the number of event fields
  ARGV[4]  position (1-based, among the m values) of the schema id, kept in the cache
  ARGV[5 … 4+m]  the event field names
  then, per write, 4 + m arguments:
    "u" (write the cache) or "d" (remove it), the record JSON ("" for a delete),
    expected cached version for compare-and-set ("" none, "-" not cached),
    the idempotency key or "",
    the m field values in name order, "" for a field the event does not have

  Output: a flat array, per write: event id, then 1 (written), 0 (idempotent repeat: the first
          event id) or -1 (VERSION_MISMATCH: "" as id)
]]
local n, window, m, sidAt = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local names = {}
for j = 1, m do
  names[j] = ARGV[4 + j]
end
local pos = 5 + m
local key = 2
local out = {}
for _ = 1, n do
  local op, json, expected, idem = ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3]
  local first = pos + 4
  pos = first + m
  local cacheKey = KEYS[key]
  local idemKey = nil
  key = key + 1
  if idem ~= '' then
    idemKey = KEYS[key]
    key = key + 1
  end

  local previous = idemKey and redis.call('GET', idemKey)
  if previous then
    out[#out + 1] = previous
    out[#out + 1] = 0
  elseif expected ~= '' and (redis.call('HGET', cacheKey, 'v') or '-') ~= expected then
    out[#out + 1] = ''
    out[#out + 1] = -1
  else
    local fields = {}
    for j = 1, m do
      local value = ARGV[first + j - 1]
      if value ~= '' then
        fields[#fields + 1] = names[j]
        fields[#fields + 1] = value
      end
    end
    local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
    if op == 'u' then
      redis.call('HSET', cacheKey, 'd', json, 'v', id, 's', ARGV[first + sidAt - 1])
    else
      redis.call('DEL', cacheKey)
    end
    if idemKey then
      redis.call('SET', idemKey, id, 'PX', window)
    end
    out[#out + 1] = id
    out[#out + 1] = 1
  end
end
return out
