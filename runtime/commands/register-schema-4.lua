--[[
  Registers a schema version for an entity, unless the same schema (by fingerprint) already is.

  Compatibility is checked by the caller against the latest version it read; this script only
  makes sure that latest version is still the latest (optimistic concurrency), so two writers
  cannot both append a version checked against a stale latest.

  KEYS[1] registry schemas hash (id -> JSON record)
  KEYS[2] the entity's version list (ids, oldest first)
  KEYS[3] identity hash ("<entity>:<sha-256 of the full schema JSON>" -> id)
  KEYS[4] id sequence

  ARGV[1] entity name
  ARGV[2] schema JSON
  ARGV[3] SHA-256 of the full schema JSON, hex (defaults and docs included: they matter)
  ARGV[4] id of the latest version the caller checked against, or "" when it saw none
  ARGV[5] Avro fingerprint (SHA-256 of the Parsing Canonical Form, hex), stored with the schema

  Output: {id, version, created}  created = 1 for a new version, 0 when it already existed
          -1 (error code LATEST_CHANGED) when another version was registered meanwhile
]]
local existing = redis.call('HGET', KEYS[3], ARGV[1] .. ':' .. ARGV[3])
if existing then
  local record = cjson.decode(redis.call('HGET', KEYS[1], existing))
  return {tonumber(existing), record.version, 0}
end

local latest = redis.call('LINDEX', KEYS[2], -1)
if (latest or '') ~= ARGV[4] then
  return -1
end

local id = redis.call('INCR', KEYS[4])
local version = redis.call('RPUSH', KEYS[2], id)
redis.call('HSET', KEYS[1], id, cjson.encode({
  entity = ARGV[1], version = version, schema = ARGV[2], fingerprint = ARGV[5]
}))
redis.call('HSET', KEYS[3], ARGV[1] .. ':' .. ARGV[3], id)
return {id, version, 1}
