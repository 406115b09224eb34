--[[
  Load (docs/architecture.md, "The life of a hop", step 1): refuses another phone's session,
  answers a repeat of the last request with its stored reply, says "busy" while another request
  of the session holds its lock, or takes the lock and returns the record (or, for no record,
  the phone's resume pointer and language). A lock that already holds our token is ours: the
  same script run twice (a command re-sent after a reconnect) must not wait for itself.

  KEYS[1] the session record (hash: t r s n m rs w p x, see session-store.ts)
  KEYS[2] the session's lock
  KEYS[3] the phone's resume pointer
  KEYS[4] the phone's language

  ARGV[1] the request's mark (input.ts)
  ARGV[2] lock token
  ARGV[3] lock time, ms
  ARGV[4] the caller's phone, E.164
  ARGV[5] replay mode: 'e' equal marks, 's' sequence marks, 'n' time marks (ReplayMode)

  Returns {'X'} foreign, {'R', reply} replay, {'B'} busy, {'S', t, s, n, m, rs, x} the record
  (locked), or {'N', resume pointer, language} no record (locked).
]]
local f = redis.call('HMGET', KEYS[1], 't', 'r', 's', 'n', 'm', 'rs', 'w', 'p', 'x')
if f[8] and f[8] ~= '' and f[8] ~= ARGV[4] then return {'X'} end
if f[2] and f[2] ~= '' then
  local t = f[1] or ''
  local again = t == ARGV[1]
  if not again and ARGV[5] == 's' then again = string.byte(t) == 35 and #t == #ARGV[1] and ARGV[1] < t end
  if not again and ARGV[5] == 'n' and string.byte(t) == 33 then
    local arrived, stored = tonumber(string.sub(ARGV[1], 2)), tonumber(string.sub(t, 2))
    again = arrived ~= nil and stored ~= nil and arrived <= stored
  end
  if again then return {'R', f[2]} end
end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) and redis.call('GET', KEYS[2]) ~= ARGV[2] then return {'B'} end
if f[3] then return {'S', f[1] or '', f[3], f[4] or '0', f[5] or '', f[6] or '', f[9] or ''} end
return {'N', redis.call('GET', KEYS[3]) or '', redis.call('GET', KEYS[4]) or ''}
