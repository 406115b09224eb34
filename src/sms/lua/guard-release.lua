--[[
  Deletes a guard key only while it holds our own value (src/sms/bulk-guard.ts: an idempotency
  claim or a content fingerprint).

  KEYS[1] the key (string)

  ARGV[1] the value we wrote

  Returns 1 when deleted, 0 when it held another value or was gone.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0
