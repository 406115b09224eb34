--[[
  Makes an Idempotency-Key claim final (src/sms/bulk-guard.ts): the key becomes ours for good if
  it is still our pending claim (or expired meanwhile); otherwise another request got it and its
  campaign is the answer.

  KEYS[1] the idempotency key (string)

  ARGV[1] bulk id
  ARGV[2] how long the key lasts, s

  Returns {'ok', bulk id} | {'taken', id of the campaign that has it}
]]
local v = redis.call('GET', KEYS[1])
if not v or v == 'pending:' .. ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]); return {'ok', ARGV[1]} end
if string.sub(v, 1, 8) == 'pending:' then return {'taken', string.sub(v, 9)} end
return {'taken', v}
