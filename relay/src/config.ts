import { createError, Defaults, ErrorCode, MAX_FRAME_SIZE_CEILING } from '@tether/shared';

/** Limits the relay enforces; every one has a default. */
export interface RelayLimits {
  maxFrameSize: number;
  maxMessageSize: number;
  maxStreamsPerConnection: number;
  /** Per-stream buffer cap: the largest credit a receiver may grant its peer. */
  maxBufferedBytesPerStream: number;
  maxBufferedBytesPerConnection: number;
  handshakeTimeoutMs: number;
  openTimeoutMs: number;
  pingIntervalMs: number;
  idleTimeoutMs: number;
  drainTimeoutMs: number;
  /**
   * When a host registers a tunnel another link of the same user already holds, the old link is
   * pinged; silent this long, it is taken for dead (a host whose network changed) and replaced.
   */
  hostProbeMs: number;
}

export interface RelayOptions {
  /** SQLite file, or ':memory:'. */
  databaseFile: string;
  /** Token of the admin identity (only its hash is kept in memory). */
  adminToken: string;
  limits?: Partial<RelayLimits>;
  /** pino options, `false` to silence, or `true` for defaults. */
  logger?: boolean | Record<string, unknown>;
}

export const defaultLimits: RelayLimits = {
  maxFrameSize: Defaults.maxFrameSize,
  maxMessageSize: Defaults.maxMessageSize,
  maxStreamsPerConnection: Defaults.maxStreamsPerConnection,
  maxBufferedBytesPerStream: Defaults.maxWindow,
  maxBufferedBytesPerConnection: Defaults.maxBufferedBytesPerConnection,
  handshakeTimeoutMs: Defaults.handshakeTimeoutMs,
  openTimeoutMs: Defaults.openTimeoutMs,
  // Faster than the clients' own keepalive (Defaults): a relay that keeps a dead host link
  // delays the resume of its streams until it notices (see HOST_RESUME_TIMEOUT_MS).
  pingIntervalMs: 5000,
  idleTimeoutMs: 15_000,
  drainTimeoutMs: Defaults.drainTimeoutMs,
  hostProbeMs: 2000,
};

/** Merges `partial` over the defaults and rejects values that cannot work, naming them. */
export function resolveLimits(partial: Partial<RelayLimits> = {}): RelayLimits {
  const limits = { ...defaultLimits };
  for (const [key, value] of Object.entries(partial) as [keyof RelayLimits, unknown][]) {
    if (value === undefined) continue;
    if (!(key in defaultLimits)) throw createError(ErrorCode.INVALID_CONFIG, `unknown relay limit ${key}`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw createError(ErrorCode.INVALID_CONFIG, `relay limit ${key} must be a positive integer, got ${JSON.stringify(value)}`);
    }
    limits[key] = value;
  }
  if (limits.maxMessageSize < limits.maxFrameSize + 10) {
    throw createError(ErrorCode.INVALID_CONFIG, 'maxMessageSize must hold at least one frame of maxFrameSize');
  }
  if (limits.maxFrameSize > MAX_FRAME_SIZE_CEILING) throw createError(ErrorCode.INVALID_CONFIG, 'maxFrameSize may be at most 16 MiB');
  if (limits.maxMessageSize > MAX_FRAME_SIZE_CEILING + 64 * 1024) {
    throw createError(ErrorCode.INVALID_CONFIG, 'maxMessageSize may be at most 16 MiB + 64 KiB');
  }
  return limits;
}
