--[[
  Releases the session's lock if it still holds our token (a hop that wrote nothing).

  KEYS[1] the session's lock
  ARGV[1] lock token

  Returns 1 if released, else 0.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0
