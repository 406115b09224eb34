--[[
  Creates an order if absent, with its first history line and every index, at once
  (src/payments/order-store.ts, create).

  KEYS[1] the order (hash)
  KEYS[2] its history (list of JSON entries)
  KEYS[3] all orders (sorted set, score = created ms)
  KEYS[4] open orders (sorted set, score = last moved ms)
  KEYS[5] orders in state 'created' (sorted set)
  KEYS[6] the phone's orders (sorted set)

  ARGV[1] the first history entry, JSON
  ARGV[2] now, ms
  ARGV[3] the order id
  ARGV[4], ARGV[5], … field/value pairs of the order's hash

  Returns 1 when created, 0 when the order already existed (a repeated request).
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[5], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[6], ARGV[2], ARGV[3])
return 1
