--[[
  Moves a sink's applied watermark of one partition forward, never backward, and announces it.

  KEYS[1] watermark key of (entity, partition, sink)

  ARGV[1] stream id the sink has durably applied up to
  ARGV[2] pub/sub channel for announcements
  ARGV[3] announcement payload (JSON: sink, entity, partition, id)

  Output: 1 when the watermark moved, 0 when it already was at or past ARGV[1]
]]
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end

local current = redis.call('GET', KEYS[1])
if current then
  local cms, cseq = parse(current)
  local nms, nseq = parse(ARGV[1])
  if nms < cms or (nms == cms and nseq <= cseq) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
