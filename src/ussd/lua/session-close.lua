--[[
  An end signal: marks the session closed (x) once, and says on which record it was.

  KEYS[1] the session record (hash)

  ARGV[1] the caller's phone, E.164 ('' = any)
  ARGV[2] how it was closed

  Returns {'C', snapshot, reply, menu version} closed now, {'A', how} already closed,
  {'N'} no record, {'X'} another phone's session (left alone).
]]
local f = redis.call('HMGET', KEYS[1], 's', 'r', 'p', 'x', 'm')
if not f[1] then return {'N'} end
if ARGV[1] ~= '' and f[3] and f[3] ~= '' and f[3] ~= ARGV[1] then return {'X'} end
if f[4] and f[4] ~= '' then return {'A', f[4]} end
redis.call('HSET', KEYS[1], 'x', ARGV[2])
return {'C', f[1], f[2] or '', f[5] or ''}
