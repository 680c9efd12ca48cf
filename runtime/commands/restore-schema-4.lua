--[[
  Restores a schema version with the id and version it was registered with (from the Kafka
  schema mirror, after Redis lost its data), so that events carrying that id decode again and a
  capture registering the same schema later finds it as it was. Nothing that exists is changed:
  a restore that would contradict the registry is refused with a code.

  Versions of an entity are restored in order: version n needs versions 1 .. n-1 in place.

  KEYS[1] registry schemas hash (id -> JSON record)
  KEYS[2] the entity's version list (ids, oldest first)
  KEYS[3] identity hash ("<entity>:<sha-256 of the full schema JSON>" -> id)
  KEYS[4] id sequence

  ARGV[1] schema id
  ARGV[2] entity name
  ARGV[3] version
  ARGV[4] schema JSON, exactly as registered
  ARGV[5] SHA-256 of the schema JSON, hex (the identity register-schema-4.lua looks up)
  ARGV[6] Avro fingerprint (SHA-256 of the Parsing Canonical Form, hex)

  Output:  1 restored
           0 already there, identical
          -1 the id exists with other content (entity, version or schema)
          -2 the entity's version is held by another id
          -3 an earlier version of the entity is missing
          -4 the same schema is registered under another id
]]
local id = tonumber(ARGV[1])
local version = tonumber(ARGV[3])

local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored then
  local record = cjson.decode(stored)
  if record.entity == ARGV[2] and tonumber(record.version) == version and record.schema == ARGV[4] then
    return 0
  end
  return -1
end

local identity = ARGV[2] .. ':' .. ARGV[5]
local same = redis.call('HGET', KEYS[3], identity)
if same then
  return -4
end

local count = redis.call('LLEN', KEYS[2])
if count >= version then
  return -2
end
if count < version - 1 then
  return -3
end

redis.call('RPUSH', KEYS[2], id)
redis.call('HSET', KEYS[1], id, cjson.encode({
  entity = ARGV[2], version = version, schema = ARGV[4], fingerprint = ARGV[6]
}))
redis.call('HSET', KEYS[3], identity, id)
-- Ids handed out later must not collide with restored ones.
local sequence = tonumber(redis.call('GET', KEYS[4]) or '0')
if sequence < id then
  redis.call('SET', KEYS[4], id)
end
return 1
