--[[
  Sends a one-time code, as far as Redis is concerned: checks the cooldown and every quota,
  takes a slot in each counter, and stores the code's HMAC (src/sms/otp.ts). Every counter is
  taken here, atomically; otp-cancel.lua gives them back if the gateway refuses the SMS.
  A counter key is "" when it does not apply (no client address, or the service's own codes).

  KEYS[1] the code (hash: h = HMAC of the code, id, tries, exp)
  KEYS[2] the cooldown (string, expires when a new code may be asked for)
  KEYS[3] sends of this code in the hour (counter; the cooldown doubles with each)
  KEYS[4] the phone's quota, hour (counter)
  KEYS[5] the client address's quota, hour (counter, or "")
  KEYS[6] the client address's rate, minute (counter, or "")
  KEYS[7] the service-wide rate, minute (counter, or "")

  ARGV[1] HMAC of the code
  ARGV[2] the code's id
  ARGV[3] the code's lifetime, ms
  ARGV[4] cooldown base, ms
  ARGV[5] most codes per phone per hour
  ARGV[6] most codes per client address per hour
  ARGV[7] most codes per client address per minute
  ARGV[8] most codes per minute, service-wide

  Returns {'ok', expiresAtMs, cooldownMs} | {'cooldown', retryMs} |
  {'quota_phone' | 'quota_ip' | 'rate_ip' | 'rate_global', retryMs}
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cd = redis.call('PTTL', KEYS[2])
if cd > 0 then return {'cooldown', cd} end
local hour = 3600000
local minute = 60000
local function full(key, max)
  return key ~= '' and tonumber(redis.call('GET', key) or '0') >= tonumber(max)
end
if full(KEYS[4], ARGV[5]) then return {'quota_phone', redis.call('PTTL', KEYS[4])} end
if full(KEYS[5], ARGV[6]) then return {'quota_ip', redis.call('PTTL', KEYS[5])} end
if full(KEYS[6], ARGV[7]) then return {'rate_ip', redis.call('PTTL', KEYS[6])} end
if full(KEYS[7], ARGV[8]) then return {'rate_global', redis.call('PTTL', KEYS[7])} end
local function take(key, span)
  if key ~= '' and redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, span) end
end
take(KEYS[4], hour)
take(KEYS[5], hour)
take(KEYS[6], minute)
take(KEYS[7], minute)
-- The cooldown doubles with every send in the hour: base, 2x, 4x … capped at 32x.
local n = redis.call('INCR', KEYS[3])
if n == 1 then redis.call('PEXPIRE', KEYS[3], hour) end
local cooldown = tonumber(ARGV[4]) * math.pow(2, math.min(n - 1, 5))
local ttl = tonumber(ARGV[3])
local exp = now + ttl
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'id', ARGV[2], 'tries', 0, 'exp', exp)
redis.call('PEXPIRE', KEYS[1], ttl)
if cooldown > 0 then redis.call('SET', KEYS[2], '1', 'PX', math.floor(cooldown)) end
return {'ok', exp, math.floor(cooldown)}
