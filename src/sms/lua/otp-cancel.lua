--[[
  Undoes a send (src/sms/otp.ts): the slots it took in every counter go back (a refused SMS must
  not use up anyone's quota), and its code and cooldown go unless a newer code replaced it. The
  counters are the ones otp-send.lua took; "" when not applicable.

  KEYS[1] the code (hash)
  KEYS[2] the cooldown
  KEYS[3] sends of this code in the hour
  KEYS[4] the phone's quota, hour
  KEYS[5] the client address's quota, hour (or "")
  KEYS[6] the client address's rate, minute (or "")
  KEYS[7] the service-wide rate, minute (or "")

  ARGV[1] the id of the code to undo
  ARGV[2] '1' when the send may never have run (its answer was lost): then nothing is given back
          unless its code is there, so no one else's slots are freed; '0' for a send that ran
          (the gateway refused its SMS)

  Returns 1 when its code and cooldown were deleted, 0 when a newer code holds them or, with
  ARGV[2] '1', when it never ran.
]]
local ours = redis.call('HGET', KEYS[1], 'id') == ARGV[1]
if ARGV[2] == '1' and not ours then return 0 end
for i = 3, 7 do
  local k = KEYS[i]
  if k ~= '' and tonumber(redis.call('GET', k) or '0') > 0 then redis.call('DECR', k) end
end
if ours then redis.call('DEL', KEYS[1], KEYS[2]); return 1 end
return 0
