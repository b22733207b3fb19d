/**
 * The Lua scripts of the Redis tunnel registry. A tunnel's whole state is one hash (KEYS[1]:
 * node id → JSON {linkId, hostId, expiresAt, claimedAt}), so each script touches one key and is
 * atomic, on any Redis Cluster slot. Expiry is judged against `now` passed in by the caller (the
 * relay's injected clock, not Redis's), lapsed fields are dropped on the way, and every write
 * sets a real-time PEXPIRE on the key so the hash of a tunnel nobody renews vanishes by itself.
 */

/**
 * Shared prelude. ARGV[1] = now (ms). `live()` drops lapsed fields and returns the live leases,
 * each with its `node`; `oldest()` picks the lease claimed first (tie: node id), as lookups order them.
 */
const PRELUDE = `
local now = tonumber(ARGV[1])
local function live()
  local flat = redis.call('HGETALL', KEYS[1])
  local leases = {}
  for i = 1, #flat, 2 do
    local lease = cjson.decode(flat[i + 1])
    if lease.expiresAt <= now then
      redis.call('HDEL', KEYS[1], flat[i])
    else
      lease.node = flat[i]
      leases[#leases + 1] = lease
    end
  end
  return leases
end
local function earlier(a, b)
  if a.claimedAt ~= b.claimedAt then return a.claimedAt < b.claimedAt end
  return a.node < b.node
end
local function put(node, linkId, hostId, claimedAt, leaseMs, ttlMs, settings)
  local lease = {linkId = linkId, hostId = hostId, expiresAt = now + leaseMs, claimedAt = claimedAt}
  if settings ~= nil and settings ~= '' then lease.settings = settings end
  local raw = cjson.encode(lease)
  redis.call('HSET', KEYS[1], node, raw)
  redis.call('PEXPIRE', KEYS[1], ttlMs)
  return raw
end
`;

/**
 * KEYS: holders. ARGV: now, nodeId, linkId, hostId, leaseMs, ttlMs, settings (JSON or '').
 * {'granted', nodeId, lease} or {'refused', node, lease in the way} (the oldest such claim).
 * Refused while a live lease of another link on the same node, or of another host anywhere,
 * holds the tunnel; the holder claiming again keeps its claimedAt (its place in lookups).
 */
export const CLAIM_LEASE = `${PRELUDE}
local node, linkId, hostId = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local mine, inTheWay = nil, nil
for _, lease in ipairs(live()) do
  if lease.node == node then mine = lease end
  if lease.hostId ~= hostId or (lease.node == node and lease.linkId ~= linkId) then
    if inTheWay == nil or earlier(lease, inTheWay) then inTheWay = lease end
  end
end
if inTheWay then
  local node_ = inTheWay.node
  inTheWay.node = nil
  return {'refused', node_, cjson.encode(inTheWay)}
end
local claimedAt = now
if mine then claimedAt = mine.claimedAt end
return {'granted', node, put(node, linkId, hostId, claimedAt, tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7])}
`;

/**
 * KEYS: holders. ARGV: now, nodeId, linkId, hostId, leaseMs, ttlMs, settings. 1 when renewed, 0 when lost:
 * another link of this node holds it, or (this node's lease lapsed) another host took it. A
 * lapsed lease nobody took is taken again, with a new claimedAt.
 */
export const RENEW_LEASE = `${PRELUDE}
local node, linkId, hostId = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local mine, otherHost = nil, false
for _, lease in ipairs(live()) do
  if lease.node == node then mine = lease end
  if lease.hostId ~= hostId then otherHost = true end
end
if mine then
  if mine.linkId ~= linkId then return 0 end
elseif otherHost then
  return 0
end
local claimedAt = now
if mine then claimedAt = mine.claimedAt end
put(node, linkId, hostId, claimedAt, tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7])
return 1
`;

/** KEYS: holders. ARGV: now, nodeId, linkId. Deletes the node's lease if that link still holds it. */
export const RELEASE_LEASE = `${PRELUDE}
local node, linkId = ARGV[2], tonumber(ARGV[3])
for _, lease in ipairs(live()) do
  if lease.node == node and lease.linkId == linkId then redis.call('HDEL', KEYS[1], node) end
end
return 1
`;
