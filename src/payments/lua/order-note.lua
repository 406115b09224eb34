--[[
  A note in an order's history without a state change (a gateway ref arrived, a refund attempt
  failed…), with fields set in the same step (src/payments/order-store.ts, note). With guards,
  only while each guard field still holds the given value: the check and the write are one
  step, so of two callers handling the same event exactly one writes.

  KEYS[1] the order (hash)
  KEYS[2] its history (list of JSON entries)

  ARGV[1] cause
  ARGV[2] now, ISO
  ARGV[3] g, the number of guard pairs (0 for none)
  ARGV[4] … ARGV[3 + 2g] guard field/value pairs ('state' is the order's state)
  ARGV[4 + 2g], … field/value pairs to set

  Returns 1 when noted, 0 when there is no such order or a guard field holds another value.
]]
local cur = redis.call('HGET', KEYS[1], 'state')
if not cur then return 0 end
local g = tonumber(ARGV[3])
for i = 4, 3 + 2 * g, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then return 0 end
end
for i = 4 + 2 * g, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('RPUSH', KEYS[2], cjson.encode({at = ARGV[2], from = cur, to = cur, cause = ARGV[1]}))
return 1
