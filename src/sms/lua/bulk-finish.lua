--[[
  Marks batch n of a bulk campaign final once (src/sms/bulk-store.ts): the first caller wins,
  counters move exactly once, and the campaign turns "done" when every batch is final.

  KEYS[1] the campaign (hash: batches, batchesSent, recipientsSent, …, state)
  KEYS[2] final outcomes (hash n → "sent:<gatewayRef>" | "failed:<code>")
  KEYS[3] batch statuses (hash n → JSON)
  KEYS[4] the gateway reference's index entry (string "<bulkId>|<n>"); in a Cluster the ref
          index, found by the gateway's reference alone, lives in another slot than the
          campaign: KEYS[4] is then any key of the campaign and is not written (ARGV[9] '0')

  ARGV[1] n
  ARGV[2] 'sent' | 'failed'
  ARGV[3] detail: the gateway reference or the error code
  ARGV[4] recipients in the batch
  ARGV[5] the batch status JSON
  ARGV[6] bulk id
  ARGV[7] ttl, s
  ARGV[8] now, ISO
  ARGV[9] '0' when the caller keeps the ref index itself, else '1'

  Returns 1 the first time, 0 when the batch was already final.
]]
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2] .. ':' .. ARGV[3]) == 0 then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[5])
local size = tonumber(ARGV[4])
if ARGV[2] == 'sent' then
  redis.call('HINCRBY', KEYS[1], 'batchesSent', 1)
  redis.call('HINCRBY', KEYS[1], 'recipientsSent', size)
  if ARGV[3] ~= '' and ARGV[9] ~= '0' then redis.call('SET', KEYS[4], ARGV[6] .. '|' .. ARGV[1], 'EX', tonumber(ARGV[7])) end
else
  redis.call('HINCRBY', KEYS[1], 'batchesFailed', 1)
  redis.call('HINCRBY', KEYS[1], 'recipientsFailed', size)
end
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[7]))
local v = redis.call('HMGET', KEYS[1], 'batches', 'batchesSent', 'batchesFailed', 'state')
if v[4] == 'queued' and tonumber(v[2] or '0') + tonumber(v[3] or '0') >= tonumber(v[1] or '0') then
  redis.call('HSET', KEYS[1], 'state', 'done', 'finishedAt', ARGV[8])
end
return 1
