--[[
  Takes a bulk campaign's Idempotency-Key while its upload is read, or says whose it already is
  (src/sms/bulk-guard.ts).

  KEYS[1] the idempotency key (string: "pending:<bulkId>" while read, then "<bulkId>")

  ARGV[1] bulk id
  ARGV[2] how long the pending claim lasts, s

  Returns {'claimed', bulk id} | {'pending', id of the upload holding it} | {'done', id of its campaign}
]]
local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], 'pending:' .. ARGV[1], 'EX', ARGV[2]); return {'claimed', ARGV[1]} end
if string.sub(v, 1, 8) == 'pending:' then return {'pending', string.sub(v, 9)} end
return {'done', v}
