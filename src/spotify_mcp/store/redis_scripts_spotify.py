"""The Lua scripts for Spotify credentials, refresh leases and user deletion (see ``redis_scripts``).

The lease lives in the credentials hash (``lease_owner``, ``lease_until``), so only a user with
credentials can be leased, and writing new credentials leaves a held lease alone.
"""

from __future__ import annotations

from spotify_mcp.store.redis_scripts import script

PUT_CREDENTIALS = script("""
local c = cjson.decode(ARGV[3])
local k = key('spotify', c.user_id)
local old = redis.call('HGET', k, 'version')
if old and tonumber(old) + 1 > tonumber(c.version) then c.version = string.format('%d', tonumber(old) + 1) end
write(k, c)
return 1
""")

UPDATE_CREDENTIALS = script("""
local c = cjson.decode(ARGV[3])
local k = key('spotify', c.user_id)
local version = redis.call('HGET', k, 'version')
if not version or tonumber(version) ~= tonumber(ARGV[4]) then return 0 end
write(k, c)
return 1
""")

ACQUIRE_LEASE = script("""
local k = key('spotify', ARGV[3])
if redis.call('EXISTS', k) == 0 then return 0 end
local lease = redis.call('HMGET', k, 'lease_owner', 'lease_until')
if lease[1] and lease[1] ~= ARGV[4] and tonumber(lease[2]) > tonumber(ARGV[6]) then return 0 end
redis.call('HSET', k, 'lease_owner', ARGV[4], 'lease_until', ARGV[5])
return 1
""")

RELEASE_LEASE = script("""
local k = key('spotify', ARGV[3])
if redis.call('HGET', k, 'lease_owner') ~= ARGV[4] then return 0 end
redis.call('HDEL', k, 'lease_owner', 'lease_until')
return 1
""")

DELETE_USER = script("""
local user = ARGV[3]
for _, g in ipairs(redis.call('ZRANGE', key('user-grants', user), 0, -1)) do delete_grant(g) end
redis.call('DEL', key('user-grants', user), key('spotify', user))
return 1
""")
