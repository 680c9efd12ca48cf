--[[
  Appends a dead letter, once per source entry. A sink that wrote a dead letter and crashed
  before committing its offset reads the same entry again after the restart; it gets the first
  dead letter's id back instead of a second copy.

  KEYS[1] the sink's dead-letter stream
  KEYS[2] its index: source key -> dead-letter id, and dead-letter id -> source key
  ARGV[1] source key (entity, partition and stream id of the original entry)
  ARGV[2..] the dead letter's field names and values

  Output: the dead-letter id
]]
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then
  return existing
end
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
redis.call('HSET', KEYS[2], ARGV[1], id, id, ARGV[1])
return id
