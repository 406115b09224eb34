--[[
  Records a delivery report for one recipient of a bulk campaign (src/sms/bulk-store.ts).
  Final states (DELIVERED, FAILED, EXPIRED, REJECTED) are final: a later report for that
  recipient, whatever it says and however late, changes nothing. Counts are kept per batch
  (field "<n>:delivered" / "<n>:undelivered") and move only when a recipient reaches its first
  final state, so they never go down; a batch recorded as failed takes no reports at all, and
  the status only adds up batches recorded as sent (src/sms/bulk-status.ts), which also covers
  a report that arrived before its batch was recorded.

  KEYS[1] final outcomes (hash n → "sent:…" | "failed:…")
  KEYS[2] delivery statuses (hash msisdn → status)
  KEYS[3] delivery counts (hash "<n>:delivered" / "<n>:undelivered" → recipients)

  ARGV[1] n, the batch
  ARGV[2] msisdn
  ARGV[3] the reported status
  ARGV[4] ttl, s

  Returns 1 recorded, 0 a repeat of the recipient's status, -1 ignored (final already, or
  batch failed).
]]
local fin = redis.call('HGET', KEYS[1], ARGV[1])
if fin and string.sub(fin, 1, 7) == 'failed:' then return -1 end
local prev = redis.call('HGET', KEYS[2], ARGV[2])
if prev == ARGV[3] then return 0 end
local function bucket(s)
  if s == 'DELIVERED' then return 'delivered' end
  if s == 'FAILED' or s == 'EXPIRED' or s == 'REJECTED' then return 'undelivered' end
  return nil
end
if prev and bucket(prev) then return -1 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]))
local b = bucket(ARGV[3])
if b then
  redis.call('HINCRBY', KEYS[3], ARGV[1] .. ':' .. b, 1)
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[4]))
end
return 1
