/**
 * The Redis key layout of the relay's directory (users, token hashes, tunnel names). Every key
 * carries the hash tag `{dir}`, so all of them live in one Redis Cluster slot and every Lua
 * script may touch any of them atomically. The directory is small and read-mostly (it is read
 * once per authentication and per tunnel look-up, both cached above the store); hot per-request
 * state of later slices (leases, rate-limit buckets) gets tags of its own. docs/cluster.md
 * describes each key.
 */
export interface DirectoryKeys {
  /** String, INCR: the last user id handed out (ids are never reused). */
  nextUserId: string;
  /** Hash: user name → JSON {id, name, tokenHash, createdAt}. */
  users: string;
  /** Hash: user id → user name (the owner names of tunnels). */
  userIds: string;
  /** Hash: token hash (SHA-256, hex) → user name. */
  tokens: string;
  /** Hash: tunnel name → JSON {name, ownerId, createdAt, lastHostedAt}. */
  tunnels: string;
  /** Set: the names of the tunnels user `id` owns. */
  owned(id: number): string;

  // Teams (redis-team-store.ts). The Lua cascades (team-scripts.ts) build the per-tunnel and
  // per-user keys themselves from `base`, with the same suffixes as below.
  /** `PREFIX:{dir}:`, what the Lua scripts prefix the keys they build with. */
  base: string;
  /** String, INCR: the last insertion sequence handed out (orders invites and requests made in one millisecond). */
  nextSeq: string;
  /** Hash: user id → JSON {tunnel, userId, role, expiresAt, blocked, source, grantedBy, createdAt}. */
  grants(tunnel: string): string;
  /** Set: the tunnels user `id` has a grant on. */
  userGrants(id: number): string;
  /** Hash: invite id → JSON InviteRecord plus `seq`. */
  invites: string;
  /** Set: the ids of the tunnel's invites. */
  tunnelInvites(tunnel: string): string;
  /** Hash: request id → JSON AccessRequestRecord (without userName) plus `seq`. */
  requests: string;
  /** Set: the ids of the tunnel's access requests. */
  tunnelRequests(tunnel: string): string;
  /** Set: the ids of user `id`'s access requests. */
  userRequests(id: number): string;
  /** Hash: tunnel name → JSON TunnelSettings (absent: the defaults). */
  settings: string;
  /** Hash: secret name → value (base64url, 32 random bytes). */
  secrets: string;
}

/** The keys under `prefix` (default `tether`): `PREFIX:{dir}:users` and so on. */
export function directoryKeys(prefix = 'tether'): DirectoryKeys {
  const base = `${prefix}:{dir}:`;
  return {
    nextUserId: `${base}next-user-id`,
    users: `${base}users`,
    userIds: `${base}user-ids`,
    tokens: `${base}tokens`,
    tunnels: `${base}tunnels`,
    owned: (id) => `${base}owned:${id}`,
    base,
    nextSeq: `${base}next-seq`,
    grants: (tunnel) => `${base}grants:${tunnel}`,
    userGrants: (id) => `${base}user-grants:${id}`,
    invites: `${base}invites`,
    tunnelInvites: (tunnel) => `${base}tunnel-invites:${tunnel}`,
    requests: `${base}requests`,
    tunnelRequests: (tunnel) => `${base}tunnel-requests:${tunnel}`,
    userRequests: (id) => `${base}user-requests:${id}`,
    settings: `${base}settings`,
    secrets: `${base}secrets`,
  };
}
