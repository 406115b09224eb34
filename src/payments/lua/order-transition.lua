--[[
  Moves an order to a state if it is in one of the allowed `from` states: the check and every
  write (state, fields, history, open index, state sets) are one step, so exactly one caller
  wins (src/payments/order-store.ts, transition).

  KEYS[1] the order (hash)
  KEYS[2] its history (list of JSON entries)
  KEYS[3] open orders (sorted set)
  KEYS[4] the state set of the new state (sorted set)
  KEYS[4 + i] the state set of the i-th `from` state, in ARGV[1]'s order (one key per state:
          the caller passes 4 + the number of `from` states as the key count)

  ARGV[1] the `from` states, comma-separated
  ARGV[2] the new state
  ARGV[3] cause, for the history
  ARGV[4] now, ISO
  ARGV[5] now, ms
  ARGV[6] '1' when the new state is settled (the order leaves the open index), else '0'
  ARGV[7] the order id
  ARGV[8], ARGV[9], … field/value pairs to set

  Returns {1, state it moved from} | {0, current state} | {0, ''} when there is no such order.
]]
local cur = redis.call('HGET', KEYS[1], 'state')
if not cur then return {0, ''} end
local at = 0
local i = 0
for s in string.gmatch(ARGV[1], '[^,]+') do
  i = i + 1
  if s == cur then at = i end
end
if at == 0 then return {0, cur} end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'updatedAt', ARGV[4])
for i = 8, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('RPUSH', KEYS[2], cjson.encode({at = ARGV[4], from = cur, to = ARGV[2], cause = ARGV[3]}))
if ARGV[6] == '1' then redis.call('ZREM', KEYS[3], ARGV[7]) else redis.call('ZADD', KEYS[3], ARGV[5], ARGV[7]) end
redis.call('ZREM', KEYS[4 + at], ARGV[7])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[7])
return {1, cur}
