--[[
  Extends an Idempotency-Key's pending claim while its upload is still being read
  (src/sms/bulk-guard.ts), only if the claim is still ours.

  KEYS[1] the idempotency key (string)

  ARGV[1] the value we wrote ("pending:<bulkId>")
  ARGV[2] the lease, s

  Returns 1 when extended, 0 when it held another value or was gone.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end return 0
