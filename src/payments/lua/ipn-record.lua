--[[
  Records an IPN as received, once per id (src/payments/ipn-store.ts, record): the first copy
  writes the record, its 90-day expiry and its place in the index; every copy counts.

  KEYS[1] the IPN record (hash)
  KEYS[2] all IPNs (sorted set, score = received ms)

  ARGV[1] now, ISO (receivedAt)
  ARGV[2] now, ms
  ARGV[3], ARGV[4], … field/value pairs of the record, starting with 'id', so ARGV[4] is the id

  Returns {1 when new else 0, 1 when already processed else 0, lookups that settled nothing}.
]]
local isNew = redis.call('HSETNX', KEYS[1], 'receivedAt', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'count', 1)
if isNew == 1 then
  for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
  redis.call('EXPIRE', KEYS[1], 90 * 86400)
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
end
return {isNew, redis.call('HEXISTS', KEYS[1], 'processedAt'), tonumber(redis.call('HGET', KEYS[1], 'round') or '0')}
