--[[
  Uses a code up: single use, only the verifier that deletes the code wins (src/sms/otp.ts).

  KEYS[1] the code (hash: h, id, tries, exp)

  ARGV[1] the id of the code the verifier matched

  Returns 1 when this caller deleted it, 0 when it was gone or replaced by a newer code.
]]
if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then redis.call('DEL', KEYS[1]); return 1 end
return 0
