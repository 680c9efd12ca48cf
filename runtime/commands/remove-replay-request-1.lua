--[[
  Removes a replay request once carried out, unless an operator replaced it meanwhile (asked
  for another starting point): that newer request stays, to be carried out next.

  KEYS[1] the sink's replay requests (hash)
  ARGV[1] the partition, `<entity>/<partition>`
  ARGV[2] the stream id the request that was carried out asked for

  Output: 1 if removed, 0 if the request had changed
]]
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
