"""The Lua scripts behind every Redis write: each runs atomically on the server, so no other client ever
sees half of an operation, and every single-use transition has exactly one winner across processes.

Every script starts with ``PRELUDE``: ``ARGV[1]`` is the key prefix, ``ARGV[2]`` the TTL margin in
milliseconds, and the operation's own arguments follow from ``ARGV[3]``. Scripts build their keys from
the prefix (a cascade can't know its keys in advance), so they need a standalone Redis, not a Cluster.
Each checks everything before its first write, so a refused operation writes nothing (Redis
does not undo a script's earlier writes when a later command fails; only a foreign value of the wrong
type under the prefix could make one fail).

Key layout under the prefix P (ids follow the first colon after the kind, so ids may contain colons):

    P schema-version             string  schema version applied
    P client:<client_id>         hash    ClientRecord
    P clients                    zset    client ids by created_at
    P client-grants:<client_id>  set     grant ids          (cascade of delete_client)
    P client-codes:<client_id>   set     code hashes        (cascade of delete_client)
    P client-requests:<client>   set     request ids        (cascade of delete_client)
    P request:<request_id>       hash    AuthRequestRecord, expiring
    P request-state:<state_hash> string  request id of an APPROVED request, expiring with it
    P code:<code_hash>           hash    AuthCodeRecord, expiring
    P grant:<grant_id>           hash    GrantRecord
    P grants                     zset    grant ids by created_at
    P user-grants:<user_id>      zset    a user's grant ids by created_at
    P grant-tokens:<grant_id>    set     token hashes of a grant
    P token:<token_hash>         hash    TokenRecord, expiring unless expires_at is None
    P spotify:<user_id>          hash    SpotifyCredentials plus lease_owner and lease_until
    P expiring:<kind>            zset    "<len(owner)>:<owner><id>" by expires_at, for requests
                                         (owner: client), codes (client) and tokens (grant)
    P rate:<start>:<end>:<key>   string  the count of a rate-limit window (``Store.hit``), expiring

A record with an expiry gets PEXPIREAT at its expiry plus the margin, but never before now (Redis's
clock) plus the margin: expiry decisions use the caller's ``now``, so a record must outlive them.
"""

from __future__ import annotations

PRELUDE = """
local P = ARGV[1]
local MARGIN_MS = tonumber(ARGV[2])

local function key(kind, id) return P .. kind .. ':' .. id end

local function member(owner, id) return #owner .. ':' .. owner .. id end

local function split_member(m)
  local colon = string.find(m, ':', 1, true)
  local n = tonumber(string.sub(m, 1, colon - 1))
  return string.sub(m, colon + 1, colon + n), string.sub(m, colon + n + 1)
end

local function expire_after(k, expires_at)
  local t = redis.call('TIME')
  local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local at = math.max(math.ceil(tonumber(expires_at) * 1000), now_ms) + MARGIN_MS
  redis.call('PEXPIREAT', k, string.format('%d', at))
end

local function write(k, fields)
  local set, del = {}, {}
  for name, value in pairs(fields) do
    if value == cjson.null then del[#del + 1] = name else set[#set + 1] = name; set[#set + 1] = value end
  end
  if #set > 0 then redis.call('HSET', k, unpack(set)) end
  if #del > 0 then redis.call('HDEL', k, unpack(del)) end
end

local function refuse_existing(keys)
  local seen = {}
  for _, k in ipairs(keys) do
    if seen[k] or redis.call('EXISTS', k) == 1 then
      return redis.error_reply('a record with the same id already exists')
    end
    seen[k] = true
  end
  return nil
end

local function add_token(t)
  local k = key('token', t.token_hash)
  write(k, t)
  redis.call('SADD', key('grant-tokens', t.grant_id), t.token_hash)
  if t.expires_at ~= cjson.null then
    redis.call('ZADD', P .. 'expiring:tokens', t.expires_at, member(t.grant_id, t.token_hash))
    expire_after(k, t.expires_at)
  end
end

local function token_keys(tokens, keys)
  for _, t in ipairs(tokens) do keys[#keys + 1] = key('token', t.token_hash) end
  return keys
end

local function delete_grant(grant_id)
  local gk = key('grant', grant_id)
  local owner = redis.call('HMGET', gk, 'client_id', 'user_id')
  local tk = key('grant-tokens', grant_id)
  for _, h in ipairs(redis.call('SMEMBERS', tk)) do
    redis.call('DEL', key('token', h))
    redis.call('ZREM', P .. 'expiring:tokens', member(grant_id, h))
  end
  redis.call('DEL', tk, gk)
  redis.call('ZREM', P .. 'grants', grant_id)
  if owner[1] then redis.call('SREM', key('client-grants', owner[1]), grant_id) end
  if owner[2] then redis.call('ZREM', key('user-grants', owner[2]), grant_id) end
end

local function delete_code(code_hash)
  local k = key('code', code_hash)
  local client = redis.call('HGET', k, 'client_id')
  if client then
    redis.call('SREM', key('client-codes', client), code_hash)
    redis.call('ZREM', P .. 'expiring:codes', member(client, code_hash))
  end
  return redis.call('DEL', k)
end

local function delete_request(request_id)
  local k = key('request', request_id)
  local r = redis.call('HMGET', k, 'client_id', 'upstream_state_hash')
  if r[2] then
    local sk = key('request-state', r[2])
    if redis.call('GET', sk) == request_id then redis.call('DEL', sk) end
  end
  if r[1] then
    redis.call('SREM', key('client-requests', r[1]), request_id)
    redis.call('ZREM', P .. 'expiring:requests', member(r[1], request_id))
  end
  return redis.call('DEL', k)
end
"""


def script(body: str) -> str:
    """Make a whole script of an operation's body: the prelude's arguments and helpers come first."""
    return PRELUDE + body


MIGRATE = script("""
local k = P .. 'schema-version'
local found = tonumber(redis.call('GET', k) or '0')
if found < tonumber(ARGV[3]) then redis.call('SET', k, ARGV[3]) end
return found
""")

ADD_CLIENT = script("""
local c = cjson.decode(ARGV[3])
local k = key('client', c.client_id)
local err = refuse_existing({k})
if err then return err end
write(k, c)
redis.call('ZADD', P .. 'clients', c.created_at, c.client_id)
return 1
""")

TOUCH = script("""
local k = key(ARGV[3], ARGV[4])
if redis.call('EXISTS', k) == 0 then return 0 end
redis.call('HSET', k, 'last_used_at', ARGV[5])
return 1
""")

GRANT_EXPIRY = script("""
local latest, forever, n = nil, 0, 0
for _, h in ipairs(redis.call('SMEMBERS', key('grant-tokens', ARGV[3]))) do
  local tk = key('token', h)
  if redis.call('EXISTS', tk) == 1 then
    n = n + 1
    local e = redis.call('HGET', tk, 'expires_at')
    if not e then forever = 1 elseif not latest or tonumber(e) > tonumber(latest) then latest = e end
  end
end
return {n, forever, latest or ''}
""")

DELETE_CLIENT = script("""
local id = ARGV[3]
local existed = redis.call('DEL', key('client', id))
redis.call('ZREM', P .. 'clients', id)
for _, g in ipairs(redis.call('SMEMBERS', key('client-grants', id))) do delete_grant(g) end
for _, c in ipairs(redis.call('SMEMBERS', key('client-codes', id))) do delete_code(c) end
for _, r in ipairs(redis.call('SMEMBERS', key('client-requests', id))) do delete_request(r) end
redis.call('DEL', key('client-grants', id), key('client-codes', id), key('client-requests', id))
return existed
""")

ADD_REQUEST = script("""
local r = cjson.decode(ARGV[3])
local k = key('request', r.request_id)
local keys = {k}
if r.upstream_state_hash ~= cjson.null then keys[2] = key('request-state', r.upstream_state_hash) end
local err = refuse_existing(keys)
if err then return err end
write(k, r)
expire_after(k, r.expires_at)
if keys[2] then
  redis.call('SET', keys[2], r.request_id)
  expire_after(keys[2], r.expires_at)
end
redis.call('SADD', key('client-requests', r.client_id), r.request_id)
redis.call('ZADD', P .. 'expiring:requests', r.expires_at, member(r.client_id, r.request_id))
return 1
""")

APPROVE_REQUEST = script("""
local id, state, expires_at = ARGV[3], ARGV[4], ARGV[7]
local k = key('request', id)
local r = redis.call('HMGET', k, 'status', 'expires_at', 'client_id')
if r[1] ~= 'pending_consent' or tonumber(r[2]) <= tonumber(ARGV[8]) then return 0 end
local sk = key('request-state', state)
local err = refuse_existing({sk})
if err then return err end
redis.call('HSET', k, 'status', 'approved', 'upstream_state_hash', state,
  'upstream_verifier_sealed', ARGV[5], 'binding_hash', ARGV[6], 'expires_at', expires_at)
expire_after(k, expires_at)
redis.call('SET', sk, id)
expire_after(sk, expires_at)
redis.call('ZADD', P .. 'expiring:requests', expires_at, member(r[3], id))
return 1
""")

DELETE_REQUEST = script("""
return delete_request(ARGV[3])
""")

TAKE_REQUEST_BY_STATE = script("""
local state = ARGV[3]
local id = redis.call('GET', key('request-state', state))
if not id then return false end
local k = key('request', id)
local r = redis.call('HMGET', k, 'status', 'upstream_state_hash', 'expires_at')
if r[1] ~= 'approved' or r[2] ~= state or tonumber(r[3]) <= tonumber(ARGV[4]) then return false end
local fields = redis.call('HGETALL', k)
delete_request(id)
return fields
""")

ADD_CODE = script("""
local c = cjson.decode(ARGV[3])
local k = key('code', c.code_hash)
local err = refuse_existing({k})
if err then return err end
write(k, c)
expire_after(k, c.expires_at)
redis.call('SADD', key('client-codes', c.client_id), c.code_hash)
redis.call('ZADD', P .. 'expiring:codes', c.expires_at, member(c.client_id, c.code_hash))
return 1
""")

REDEEM_CODE = script("""
local k = key('code', ARGV[3])
local c = redis.call('HMGET', k, 'expires_at', 'grant_id')
if not c[1] then return {'unknown'} end
if tonumber(c[1]) <= tonumber(ARGV[4]) then return {'expired'} end
if c[2] then return {'replayed', c[2]} end
local g = cjson.decode(ARGV[5])
local tokens = cjson.decode(ARGV[6])
local err = refuse_existing(token_keys(tokens, {key('grant', g.grant_id)}))
if err then return err end
redis.call('HSET', k, 'grant_id', g.grant_id)
write(key('grant', g.grant_id), g)
redis.call('ZADD', P .. 'grants', g.created_at, g.grant_id)
redis.call('ZADD', key('user-grants', g.user_id), g.created_at, g.grant_id)
redis.call('SADD', key('client-grants', g.client_id), g.grant_id)
for _, t in ipairs(tokens) do add_token(t) end
return {'redeemed'}
""")

ROTATE_REFRESH_TOKEN = script("""
local k = key('token', ARGV[3])
local t = redis.call('HMGET', k, 'kind', 'expires_at', 'rotated', 'grant_id')
if t[1] ~= 'refresh' then return 'unknown' end
if t[2] and tonumber(t[2]) <= tonumber(ARGV[4]) then return 'expired' end
if t[3] == '1' then
  delete_grant(t[4])
  return 'reused'
end
local tokens = cjson.decode(ARGV[5])
local err = refuse_existing(token_keys(tokens, {}))
if err then return err end
redis.call('HSET', k, 'rotated', '1')
for _, successor in ipairs(tokens) do add_token(successor) end
return 'rotated'
""")

REVOKE_GRANT = script("""
delete_grant(ARGV[3])
return 1
""")

SWEEP = script("""
local zkey = P .. 'expiring:' .. ARGV[3]
local due = redis.call('ZRANGE', zkey, '-inf', ARGV[4], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[5]))
local removed = 0
for _, m in ipairs(due) do
  local owner, id = split_member(m)
  if ARGV[3] == 'tokens' then
    removed = removed + redis.call('DEL', key('token', id))
    redis.call('SREM', key('grant-tokens', owner), id)
  elseif ARGV[3] == 'codes' then
    removed = removed + redis.call('DEL', key('code', id))
    redis.call('SREM', key('client-codes', owner), id)
  else
    removed = removed + delete_request(id)
    redis.call('SREM', key('client-requests', owner), id)
  end
  redis.call('ZREM', zkey, m)
end
return {removed, #due}
""")

RATE_HIT = script("""
local k = key('rate', ARGV[3])
local n = redis.call('INCR', k)
expire_after(k, ARGV[4])
return n
""")
"""Count one event in a rate-limit window and keep the counter until the window's end plus the margin."""
