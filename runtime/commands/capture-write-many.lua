--[[
  Writes many changes of one partition in one call: for each write, exactly what
  capture-write-3.lua does for one (cache value and event together, idempotency, compare-and-set).
  One call per partition instead of one per write, because the per-call cost (EVALSHA, argument
  parsing, the client's command objects) would otherwise dominate a batch. Each write is atomic;
  the whole call runs without interleaving.

  KEYS[1]         the partition stream
  KEYS[2i], KEYS[2i+1]   cache key and idempotency record key of write i (i = 1..n)

  ARGV[1]  n, the number of writes
  then, per write:
    op ("u" or "d"), cache JSON ("" for a delete), schema id ("" for a delete),
    idempotency key or "", idempotency window ms, expected version ("" none, "-" not cached),
    f = number of event field items, then the f items (name, value, name, value, …)

  Output: a flat array, per write: event id, then 1 (written), 0 (idempotent repeat: the first
          event id) or -1 (VERSION_MISMATCH: "" as id)
]]
local n = tonumber(ARGV[1])
local pos = 2
local out = {}
for i = 1, n do
  local op, json, sid = ARGV[pos], ARGV[pos + 1], ARGV[pos + 2]
  local idem, window, expected = ARGV[pos + 3], ARGV[pos + 4], ARGV[pos + 5]
  local count = tonumber(ARGV[pos + 6])
  local first = pos + 7
  pos = first + count
  local cacheKey, idemKey = KEYS[2 * i], KEYS[2 * i + 1]

  local previous = false
  if idem ~= '' then
    previous = redis.call('GET', idemKey)
  end
  if previous then
    out[#out + 1] = previous
    out[#out + 1] = 0
  elseif expected ~= '' and (redis.call('HGET', cacheKey, 'v') or '-') ~= expected then
    out[#out + 1] = ''
    out[#out + 1] = -1
  else
    local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, first, pos - 1))
    if op == 'u' then
      redis.call('HSET', cacheKey, 'd', json, 'v', id, 's', sid)
    else
      redis.call('DEL', cacheKey)
    end
    if idem ~= '' then
      redis.call('SET', idemKey, id, 'PX', window)
    end
    out[#out + 1] = id
    out[#out + 1] = 1
  end
end
return out
