--[[
  Takes one slot of the gateway's shared request allowance for a caller of one priority class,
  or says how long until it is worth asking again (src/gateway/http/rate-limiter.ts explains the
  classes, the reserve and the waiter leases). Uses the Redis server's clock, so instances with
  skewed clocks still agree.

  KEYS[1] minute log (sorted set: member per request, score = time taken)
  KEYS[2] day log (same shape; used only when ARGV[5] > 0)
  KEYS[3] waiting callers of class 1, money      (sorted set: score = lease expiry)
  KEYS[4] waiting callers of class 2, notice
  KEYS[5] waiting callers of class 3, otp
  KEYS[6] waiting callers of class 4, bulk

  ARGV[1] limit per window
  ARGV[2] window length, ms
  ARGV[3] member: this request's id, also its waiter id
  ARGV[4] class of the caller, 1..4
  ARGV[5] day limit (0 = no daily cap)
  ARGV[6] day window length, ms
  ARGV[7] reserve percent each lower class leaves to the classes above it
  ARGV[8] lease margin, ms, past the caller's next poll
  ARGV[9] longest wait the caller accepts, ms (it is registered as waiting only within it)

  Returns {0, ''} when a slot was taken, else {ms until it is worth asking again, why} where
  why is 'minute' or 'day' (the window that is full for this class).
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local me = ARGV[3]
local cls = tonumber(ARGV[4])
local dayLimit = tonumber(ARGV[5])
local dayWindow = tonumber(ARGV[6])
local pct = tonumber(ARGV[7])
local ahead = 0
for i = 1, cls - 1 do
  redis.call('ZREMRANGEBYSCORE', KEYS[2 + i], '-inf', now)
  ahead = ahead + redis.call('ZCARD', KEYS[2 + i])
end
-- How many entries must leave a log before this caller may add one: it needs a slot for itself,
-- one for each higher waiter, and its class's reserve left free.
local function short(key, lim, span)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  local used = redis.call('ZCARD', key)
  local k = ahead + 1 + math.floor(lim * pct * (cls - 1) / 100) - (lim - used)
  if k <= 0 then return 0 end
  if used == 0 then return 50 end
  local idx = math.min(k, used) - 1
  local e = redis.call('ZRANGE', key, idx, idx, 'WITHSCORES')
  local w = tonumber(e[2]) + span - now
  if w < 1 then w = 1 end
  return w
end
local wait = short(KEYS[1], limit, window)
local why = 'minute'
if dayLimit > 0 then
  local dw = short(KEYS[2], dayLimit, dayWindow)
  if dw > wait then wait = dw; why = 'day' end
end
local mine = KEYS[2 + cls]
if wait == 0 then
  redis.call('ZADD', KEYS[1], now, me)
  redis.call('PEXPIRE', KEYS[1], window + 1000)
  if dayLimit > 0 then
    redis.call('ZADD', KEYS[2], now, me)
    redis.call('PEXPIRE', KEYS[2], dayWindow + 1000)
  end
  redis.call('ZREM', mine, me)
  return {0, ''}
end
if wait <= tonumber(ARGV[9]) then
  local lease = now + wait + tonumber(ARGV[8])
  redis.call('ZADD', mine, lease, me)
  redis.call('PEXPIRE', mine, wait + tonumber(ARGV[8]) + 1000)
else
  redis.call('ZREM', mine, me)
end
return {wait, why}
