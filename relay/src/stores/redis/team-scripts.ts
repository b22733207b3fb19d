/**
 * The Lua scripts of the Redis store's team part (redis-team-store.ts). Like scripts.ts, each runs
 * to its end before any other command, which is what makes a use of an invite, a review, or a
 * cascade all or nothing. Every key lives under the `{dir}` hash tag (keys.ts), so the cascades
 * may build per-tunnel and per-user keys from `base` (ARGV) that the caller could not list in
 * KEYS beforehand: they hash to the same slot as the declared keys, which Redis Cluster allows.
 * The suffixes below must match keys.ts. cjson encodes an empty table as `{}`: the TypeScript
 * side reads an empty `reviews` back as [].
 */

/**
 * Lua functions the tunnel and user deletions (scripts.ts) prepend: they delete the team records
 * of one tunnel name, or of one user on every tunnel, with their indexes.
 */
export const PURGE_FUNCTIONS = `
local function purge_requests(base, index, other_index_of)
  for _, id in ipairs(redis.call('SMEMBERS', index)) do
    local raw = redis.call('HGET', base .. 'requests', id)
    if raw then redis.call('SREM', other_index_of(cjson.decode(raw)), id) end
    redis.call('HDEL', base .. 'requests', id)
  end
  redis.call('DEL', index)
end
local function purge_tunnel(base, tunnel)
  local grants = base .. 'grants:' .. tunnel
  for _, uid in ipairs(redis.call('HKEYS', grants)) do redis.call('SREM', base .. 'user-grants:' .. uid, tunnel) end
  redis.call('DEL', grants)
  local invites = base .. 'tunnel-invites:' .. tunnel
  for _, id in ipairs(redis.call('SMEMBERS', invites)) do redis.call('HDEL', base .. 'invites', id) end
  redis.call('DEL', invites)
  purge_requests(base, base .. 'tunnel-requests:' .. tunnel, function(r) return base .. 'user-requests:' .. string.format('%d', r.userId) end)
  redis.call('HDEL', base .. 'settings', tunnel)
end
local function purge_user(base, uid)
  local tunnels = base .. 'user-grants:' .. uid
  for _, tunnel in ipairs(redis.call('SMEMBERS', tunnels)) do redis.call('HDEL', base .. 'grants:' .. tunnel, uid) end
  redis.call('DEL', tunnels)
  purge_requests(base, base .. 'user-requests:' .. uid, function(r) return base .. 'tunnel-requests:' .. r.tunnel end)
end
`;

/**
 * KEYS: tunnels, userIds, grants(tunnel), userGrants(userId). ARGV: tunnel, userId, grant JSON
 * (with createdAt). {'ok', stored JSON} (a replace keeps the stored createdAt), or
 * {'no-tunnel'} / {'no-user'}: a grant on a name nobody holds would pass to its next owner.
 */
export const PUT_GRANT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return {'no-tunnel'} end
if ARGV[2] ~= '0' and redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 then return {'no-user'} end
local grant = cjson.decode(ARGV[3])
local old = redis.call('HGET', KEYS[3], ARGV[2])
if old then grant.createdAt = cjson.decode(old).createdAt end
local stored = cjson.encode(grant)
redis.call('HSET', KEYS[3], ARGV[2], stored)
redis.call('SADD', KEYS[4], ARGV[1])
return {'ok', stored}
`;

/** KEYS: grants(tunnel), userGrants(userId). ARGV: tunnel, userId. 1 deleted, 0 none. */
export const DELETE_GRANT = `
local n = redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('SREM', KEYS[2], ARGV[1])
return n
`;

/** KEYS: userGrants(userId). ARGV: base, userId. The JSON of the user's grants. */
export const GRANTS_OF_USER = `
local out = {}
for _, tunnel in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local raw = redis.call('HGET', ARGV[1] .. 'grants:' .. tunnel, ARGV[2])
  if raw then out[#out + 1] = raw end
end
return out
`;

/**
 * KEYS: tunnels, records (invites or requests), index of the tunnel, nextSeq[, index of the
 * user]. ARGV: tunnel, id, record JSON. Stamps `seq`; {'ok', stored JSON}, {'no-tunnel'} or
 * {'exists'}.
 */
export const CREATE_RECORD = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return {'no-tunnel'} end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return {'exists'} end
local record = cjson.decode(ARGV[3])
record.seq = redis.call('INCR', KEYS[4])
local stored = cjson.encode(record)
redis.call('HSET', KEYS[2], ARGV[2], stored)
redis.call('SADD', KEYS[3], ARGV[2])
if KEYS[5] then redis.call('SADD', KEYS[5], ARGV[2]) end
return {'ok', stored}
`;

/** KEYS: invites. ARGV: id. 1 revoked, 0 no such invite. */
export const REVOKE_INVITE = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local invite = cjson.decode(raw)
invite.revoked = true
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(invite))
return 1
`;

/**
 * KEYS: invites. ARGV: id, userId, now. {'ok', stored JSON after the use} or {refusal}, judged
 * in the order of team-common.ts's inviteRefusal (expired: expiresAt <= now, as ISO strings).
 */
export const USE_INVITE = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return {'unknown'} end
local invite = cjson.decode(raw)
if invite.revoked then return {'revoked'} end
if invite.expiresAt <= ARGV[3] then return {'expired'} end
if invite.uses >= invite.maxUses then return {'used-up'} end
if invite.userId ~= cjson.null and invite.userId ~= tonumber(ARGV[2]) then return {'wrong-user'} end
invite.uses = invite.uses + 1
local stored = cjson.encode(invite)
redis.call('HSET', KEYS[1], ARGV[1], stored)
return {'ok', stored}
`;

/**
 * KEYS: requests, userIds. ARGV: id, reviewerId, decision, reason, at, approvalsNeeded,
 * durationMs (as read before), grantedUntil (now + durationMs, reckoned by the caller).
 * {'ok', stored JSON}, {'unknown'}, {'closed'}, {'already-reviewed'}, or {'stale'} when the
 * request's duration is not the one the caller read (the caller reads again).
 */
export const REVIEW_REQUEST = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return {'unknown'} end
local request = cjson.decode(raw)
if request.durationMs ~= tonumber(ARGV[7]) then return {'stale'} end
if request.status ~= 'pending' then return {'closed'} end
local reviewer = tonumber(ARGV[2])
local reviews = request.reviews
local approvals = 0
for _, review in ipairs(reviews) do
  if review.reviewerId == reviewer then return {'already-reviewed'} end
  if review.decision == 'approve' then approvals = approvals + 1 end
end
local name = 'admin'
if reviewer ~= 0 then name = redis.call('HGET', KEYS[2], ARGV[2]) or ('#' .. ARGV[2]) end
reviews[#reviews + 1] = {reviewerId = reviewer, reviewerName = name, decision = ARGV[3], reason = ARGV[4], at = ARGV[5]}
request.reviews = reviews
if ARGV[3] == 'deny' then
  request.status = 'denied'
elseif approvals + 1 >= tonumber(ARGV[6]) then
  request.status = 'approved'
  request.grantedUntil = ARGV[8]
end
local stored = cjson.encode(request)
redis.call('HSET', KEYS[1], ARGV[1], stored)
return {'ok', stored}
`;

/** KEYS: tunnels, settings. ARGV: tunnel, settings JSON. 1 set, 0 no such tunnel. */
export const SET_SETTINGS = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
`;
