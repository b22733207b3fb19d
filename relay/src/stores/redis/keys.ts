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
  };
}
