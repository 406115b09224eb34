--[[
  The reply a failed hop gave, stored for its request's mark, unless the record moved on (it
  holds a reply for that mark already), belongs to another phone, or is locked by another hop at
  work. A record the failed hop itself left mid-action (its mark, no reply yet) is closed: its
  snapshot goes, so nothing re-runs that action; a repeat replays the reply, a new request
  starts afresh.

  KEYS[1] the session record (hash)
  KEYS[2] the session's lock

  ARGV[1] the failed request's mark
  ARGV[2] its reply (encoded)
  ARGV[3] the caller's phone, E.164
  ARGV[4] record TTL, s
  ARGV[5] the failed hop's lock token

  Returns 'locked', 'foreign', 'moved' or 'stored'.
]]
local lock = redis.call('GET', KEYS[2])
if lock and lock ~= ARGV[5] then return 'locked' end
local f = redis.call('HMGET', KEYS[1], 't', 'p', 'r')
if f[2] and f[2] ~= '' and f[2] ~= ARGV[3] then return 'foreign' end
if f[1] == ARGV[1] and f[3] and f[3] ~= '' then return 'moved' end
if f[1] == ARGV[1] then redis.call('HDEL', KEYS[1], 's') end
redis.call('HSET', KEYS[1], 't', ARGV[1], 'r', ARGV[2], 'p', ARGV[3], 'w', '')
redis.call('EXPIRE', KEYS[1], ARGV[4])
if lock then redis.call('DEL', KEYS[2]) end
return 'stored'
