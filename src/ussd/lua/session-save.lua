--[[
  Save (docs/architecture.md, rule 2): writes the record, its TTL, the phone's resume pointer
  and language, then unlocks, only while the lock is still ours (a writer whose lock expired
  never overwrites a newer state).

  KEYS[1] the session record (hash)
  KEYS[2] the session's lock
  KEYS[3] the phone's resume pointer
  KEYS[4] the phone's language

  ARGV[1]  lock token
  ARGV[2]  '1' unlock after writing, '0' keep the lock (an action is about to run)
  ARGV[3]  record TTL, s
  ARGV[4]  t: the request's mark
  ARGV[5]  r: the stored reply ('' while an action runs)
  ARGV[6]  s: the snapshot
  ARGV[7]  n: hop count
  ARGV[8]  m: menu version
  ARGV[9]  rs: the resume offer
  ARGV[10] resume pointer: '' delete it, '-' leave it, else its new value
  ARGV[11] resume pointer TTL, s
  ARGV[12] language: '' leave it, else its new value
  ARGV[13] language TTL, s
  ARGV[14] p: the phone the session belongs to
  ARGV[15] w: the new write id

  Returns 1, or 0 if the lock was no longer ours (nothing written).
]]
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 't', ARGV[4], 'r', ARGV[5], 's', ARGV[6], 'n', ARGV[7], 'm', ARGV[8], 'rs', ARGV[9], 'p', ARGV[14], 'w', ARGV[15])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if ARGV[10] == '' then redis.call('DEL', KEYS[3])
elseif ARGV[10] ~= '-' then redis.call('SET', KEYS[3], ARGV[10], 'EX', ARGV[11]) end
if ARGV[12] ~= '' then redis.call('SET', KEYS[4], ARGV[12], 'EX', ARGV[13]) end
if ARGV[2] == '1' then redis.call('DEL', KEYS[2]) end
return 1
