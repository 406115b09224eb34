--[[
  A note in an order's history without a state change (a gateway ref arrived, a refund attempt
  failed…), with fields set in the same step (src/payments/order-store.ts, note).

  KEYS[1] the order (hash)
  KEYS[2] its history (list of JSON entries)

  ARGV[1] cause
  ARGV[2] now, ISO
  ARGV[3], ARGV[4], … field/value pairs to set

  Returns 1 when noted, 0 when there is no such order.
]]
local cur = redis.call('HGET', KEYS[1], 'state')
if not cur then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('RPUSH', KEYS[2], cjson.encode({at = ARGV[2], from = cur, to = cur, cause = ARGV[1]}))
return 1
