/**
 * The Lua scripts of the Redis store: each one is atomic (Redis runs a script to its end before
 * any other command), which is how a change to a user and its indexes is all or nothing. Every
 * key a script touches is passed in KEYS (Redis Cluster routes a script by its keys), and they
 * all share the `{dir}` hash tag (keys.ts). Records are JSON; cjson keeps null as null.
 */

import { PURGE_FUNCTIONS } from './team-scripts.js';

/** KEYS: users, userIds, tokens, nextUserId. ARGV: name, tokenHash, createdAt. */
export const CREATE_USER = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {'exists'} end
if redis.call('HEXISTS', KEYS[3], ARGV[2]) == 1 then return {'token-taken'} end
local id = redis.call('INCR', KEYS[4])
local user = cjson.encode({id = id, name = ARGV[1], tokenHash = ARGV[2], createdAt = ARGV[3]})
redis.call('HSET', KEYS[1], ARGV[1], user)
redis.call('HSET', KEYS[2], tostring(id), ARGV[1])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[1])
return {'ok', user}
`;

/** KEYS: tokens, users. ARGV: tokenHash. The user record, or nil: one round trip per sign-in. */
export const USER_BY_TOKEN = `
local name = redis.call('HGET', KEYS[1], ARGV[1])
if not name then return nil end
return redis.call('HGET', KEYS[2], name)
`;

/** KEYS: users, tokens. ARGV: name, tokenHash. 1 when replaced, 0 when there is no such user. */
export const ROTATE_TOKEN = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local user = cjson.decode(raw)
redis.call('HDEL', KEYS[2], user.tokenHash)
user.tokenHash = ARGV[2]
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(user))
return 1
`;

/**
 * KEYS: users, userIds, tokens, tunnels, owned(id). ARGV: name, id (as read just before), base
 * (keys.ts). 1 deleted, 0 no such user, -1 the name now belongs to another id (deleted and
 * re-created between the read and this script: the caller reads again). The owned tunnels go
 * with their grants, invites, requests and settings, and the user's own grants and requests too.
 */
export const DELETE_USER = `${PURGE_FUNCTIONS}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local user = cjson.decode(raw)
if tostring(user.id) ~= ARGV[2] then return -1 end
redis.call('HDEL', KEYS[3], user.tokenHash)
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[1], ARGV[1])
local owned = redis.call('SMEMBERS', KEYS[5])
for _, tunnel in ipairs(owned) do
  redis.call('HDEL', KEYS[4], tunnel)
  purge_tunnel(ARGV[3], tunnel)
end
redis.call('DEL', KEYS[5])
purge_user(ARGV[3], ARGV[2])
return 1
`;

/**
 * KEYS: tunnels, owned(ownerId). ARGV: name, ownerId, createdAt. First writer wins: the record
 * as stored afterwards (the existing one when the name was taken).
 */
export const CLAIM_TUNNEL = `
local record = cjson.encode({name = ARGV[1], ownerId = tonumber(ARGV[2]), createdAt = ARGV[3], lastHostedAt = cjson.null})
if redis.call('HSETNX', KEYS[1], ARGV[1], record) == 1 then
  redis.call('SADD', KEYS[2], ARGV[1])
  return record
end
return redis.call('HGET', KEYS[1], ARGV[1])
`;

/**
 * KEYS: a hash of JSON records (users or tunnels). ARGV: field, a JSON object of fields to set
 * (null clears), and a JSON object of fields to set only when they are null or missing. The
 * updated record, or nil when there is no such record.
 */
export const PATCH_RECORD = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return nil end
local record = cjson.decode(raw)
for k, v in pairs(cjson.decode(ARGV[2])) do record[k] = v end
for k, v in pairs(cjson.decode(ARGV[3])) do
  if record[k] == nil or record[k] == cjson.null then record[k] = v end
end
local updated = cjson.encode(record)
redis.call('HSET', KEYS[1], ARGV[1], updated)
return updated
`;

/** KEYS: tunnels. ARGV: name, hostedAt. */
export const MARK_HOSTED = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local tunnel = cjson.decode(raw)
tunnel.lastHostedAt = ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(tunnel))
return 1
`;

/**
 * KEYS: tunnels, owned(ownerId). ARGV: name, ownerId (as read just before), base (keys.ts).
 * 1 deleted (with its grants, invites, requests and settings), 0 no such tunnel, -1 it now has
 * another owner (the caller reads again).
 */
export const DELETE_TUNNEL = `${PURGE_FUNCTIONS}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
if tostring(cjson.decode(raw).ownerId) ~= ARGV[2] then return -1 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[1])
purge_tunnel(ARGV[3], ARGV[1])
return 1
`;
