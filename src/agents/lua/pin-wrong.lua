--[[
  A wrong PIN: its try is already counted (pin-take-try.lua); the last allowed one locks the
  agent. src/agents/store.ts, checkPin.

  KEYS[1] the agent (hash)

  ARGV[1] n: the tries used, as pin-take-try.lua returned it
  ARGV[2] maxTries
  ARGV[3] lockedUntil to set when this was the last allowed try, ms

  Returns -1 when the agent is now locked, else the tries left.
]]
if tonumber(ARGV[1]) >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'lockedUntil', ARGV[3], 'failedTries', 0)
  return -1
end
return tonumber(ARGV[2]) - tonumber(ARGV[1])
