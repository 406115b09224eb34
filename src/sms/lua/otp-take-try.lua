--[[
  Takes one try at a code before the comparison (which happens in JS, constant-time), so
  concurrent guesses cannot exceed OTP_MAX_TRIES (src/sms/otp.ts). An expired code is deleted.

  KEYS[1] the code (hash: h, id, tries, exp)

  ARGV[1] most tries allowed

  Returns {'none'} | {'locked'} | {'try', HMAC of the code, its id, tries used including this one}
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 'h', 'id', 'tries', 'exp')
if not v[1] then return {'none'} end
if tonumber(v[4]) <= now then redis.call('DEL', KEYS[1]); return {'none'} end
local tries = tonumber(v[3])
if tries >= tonumber(ARGV[1]) then return {'locked'} end
tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
return {'try', v[1], v[2], tries}
