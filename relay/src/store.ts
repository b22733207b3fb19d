/** A user as stored: the token itself is never kept, only its hash. */
export interface UserRecord {
  id: number;
  name: string;
  createdAt: string;
}

export interface TunnelRecord {
  name: string;
  ownerId: number;
  ownerName: string;
  createdAt: string;
  lastHostedAt: string | null;
}

/**
 * Persistent state of a relay. The embedded default is SQLite; a Redis-backed store for
 * clusters implements the same interface later.
 */
export interface Store {
  createUser(name: string, tokenHash: string): UserRecord;
  findUserByTokenHash(tokenHash: string): UserRecord | undefined;
  findUserByName(name: string): UserRecord | undefined;
  listUsers(): UserRecord[];
  /** Replaces a user's token hash; false when there is no such user. */
  rotateUserToken(name: string, tokenHash: string): boolean;
  deleteUser(name: string): boolean;
  getTunnel(name: string): TunnelRecord | undefined;
  /** Claims `name` for `ownerId` if nobody owns it yet; returns the (possibly existing) record. */
  claimTunnel(name: string, ownerId: number): TunnelRecord;
  markTunnelHosted(name: string): void;
  listTunnels(ownerId?: number): TunnelRecord[];
  deleteTunnel(name: string): boolean;
  close(): void;
}
