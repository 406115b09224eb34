--[[
  Load and save at once, for the process that wrote the record last (docs/architecture.md,
  "The life of a hop"): it computed the hop from the record as it wrote it, and the record is
  written only if nobody wrote since. Besides w, the mark and the menu version must be as we left
  them (a writer that does not keep w, an older release during a rolling deploy, still changes
  one of those), and the session must not have been closed since. Otherwise it answers exactly
  as session-load.lua, with the lock taken when the answer is a record.

  KEYS[1] the session record (hash)
  KEYS[2] the session's lock
  KEYS[3] the phone's resume pointer
  KEYS[4] the phone's language

  ARGV[1]  the request's mark, for the replay check
  ARGV[2]  lock token
  ARGV[3]  lock time, ms
  ARGV[4]  the write id expected on the record
  ARGV[5]  '1' keep the lock after writing (an action is about to run), '0' unlock
  ARGV[6]  the mark expected on the record
  ARGV[7]  record TTL, s
  ARGV[8]  t: the mark to store
  ARGV[9]  r: the stored reply ('' while an action runs)
  ARGV[10] s: the snapshot
  ARGV[11] n: hop count
  ARGV[12] m: menu version (also the one expected on the record)
  ARGV[13] rs: the resume offer
  ARGV[14] resume pointer: '' delete it, '-' leave it, else its new value
  ARGV[15] resume pointer TTL, s
  ARGV[16] language: '' leave it, else its new value
  ARGV[17] language TTL, s
  ARGV[18] p: the caller's phone, which the session belongs to
  ARGV[19] w: the new write id
  ARGV[20] replay mode (as in session-load.lua)

  Returns {'W'} written, else what session-load.lua returns.
]]
local f = redis.call('HMGET', KEYS[1], 't', 'r', 's', 'n', 'm', 'rs', 'w', 'p', 'x')
if f[8] and f[8] ~= '' and f[8] ~= ARGV[18] then return {'X'} end
if f[2] and f[2] ~= '' then
  local t = f[1] or ''
  local again = t == ARGV[1]
  if not again and ARGV[20] == 's' then again = string.byte(t) == 35 and #t == #ARGV[1] and ARGV[1] < t end
  if not again and ARGV[20] == 'n' and string.byte(t) == 33 then
    local arrived, stored = tonumber(string.sub(ARGV[1], 2)), tonumber(string.sub(t, 2))
    again = arrived ~= nil and stored ~= nil and arrived <= stored
  end
  if again then return {'R', f[2]} end
end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) and redis.call('GET', KEYS[2]) ~= ARGV[2] then return {'B'} end
if f[3] and f[7] == ARGV[4] and f[1] == ARGV[6] and f[5] == ARGV[12] and (not f[9] or f[9] == '') then
  redis.call('HSET', KEYS[1], 't', ARGV[8], 'r', ARGV[9], 's', ARGV[10], 'n', ARGV[11], 'm', ARGV[12], 'rs', ARGV[13], 'p', ARGV[18], 'w', ARGV[19])
  redis.call('EXPIRE', KEYS[1], ARGV[7])
  if ARGV[14] == '' then redis.call('DEL', KEYS[3])
  elseif ARGV[14] ~= '-' then redis.call('SET', KEYS[3], ARGV[14], 'EX', ARGV[15]) end
  if ARGV[16] ~= '' then redis.call('SET', KEYS[4], ARGV[16], 'EX', ARGV[17]) end
  if ARGV[5] ~= '1' then redis.call('DEL', KEYS[2]) end
  return {'W'}
end
if f[3] then return {'S', f[1] or '', f[3], f[4] or '0', f[5] or '', f[6] or '', f[9] or ''} end
return {'N', redis.call('GET', KEYS[3]) or '', redis.call('GET', KEYS[4]) or ''}
