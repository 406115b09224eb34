--[[
  Takes one PIN try BEFORE the (slow, async) comparison, in one step with the lock check:
  parallel guesses each take a try, so no burst gets more than maxTries comparisons. A burst
  beyond the limit locks the agent at once. A blocked agent is refused before any try is taken
  (an operator's block is not a PIN matter). src/agents/store.ts, checkPin.

  KEYS[1] the agent (hash: phone, status, pinHash, failedTries, lockedUntil, blockedAt, …)

  ARGV[1] maxTries: wrong PINs in a row allowed before the lock
  ARGV[2] now, ms
  ARGV[3] lockedUntil to set when this try locks the agent, ms

  Returns {'not_agent'} | {'blocked'} | {'locked', lockedUntil} | {'not_active'} |
  {'try', tries used including this one, the PIN hash}
]]
local h = redis.call('HMGET', KEYS[1], 'phone', 'status', 'pinHash', 'lockedUntil', 'blockedAt')
if not h[1] then return {'not_agent'} end
if h[5] then return {'blocked'} end
if h[4] and tonumber(h[4]) and tonumber(h[4]) > tonumber(ARGV[2]) then return {'locked', h[4]} end
if h[2] ~= 'active' or not h[3] then return {'not_active'} end
local n = redis.call('HINCRBY', KEYS[1], 'failedTries', 1)
if n > tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'lockedUntil', ARGV[3], 'failedTries', 0)
  return {'locked', ARGV[3]}
end
return {'try', n, h[3]}
