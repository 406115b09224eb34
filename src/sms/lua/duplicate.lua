--[[
  Records a campaign's content fingerprint, or names the earlier campaign that sent the same
  content within the window (src/sms/bulk-guard.ts).

  KEYS[1] the fingerprint (string: the bulk id that sent it last)

  ARGV[1] bulk id
  ARGV[2] window, s
  ARGV[3] '1' when the request confirms a duplicate (recorded regardless)

  Returns '' when recorded, else the earlier campaign's id (nothing recorded).
]]
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] and ARGV[3] ~= '1' then return v end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ''
