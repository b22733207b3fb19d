import type { FastifyBaseLogger } from 'fastify';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../stores/redis/redis-client.js';

/**
 * What one node tells the others so that every node acts on it within a second:
 * - `user-revoked`: the user's token was replaced or the user deleted; close its links.
 *   `deleted` also means the tunnels it owned are gone (drop the tunnel cache).
 * - `tunnel-deleted`: the tunnel's name was released; drop it from the tunnel cache.
 * - `grant-changed`: a member's grant on a tunnel was removed, blocked, changed or replaced;
 *   drop it from the grant cache and decide that user's open streams to the tunnel again.
 */
export type Invalidation =
  | { kind: 'user-revoked'; origin: string; userId: number; user: string; reason: string; deleted: boolean }
  | { kind: 'tunnel-deleted'; origin: string; name: string }
  | { kind: 'grant-changed'; origin: string; tunnel: string; userId: number; reason: string }
  /** A tunnel's HTTP cache was purged (docs/http-cache.md): every node drops its entries. */
  | { kind: 'cache-purged'; origin: string; tunnel: string }
  /**
   * The relay admin disabled (or enabled) a tunnel: every node drops it from its tunnel cache;
   * on a disable, it also resets the tunnel's streams and closes its host link there.
   */
  | { kind: 'tunnel-disabled'; origin: string; name: string; disabled: boolean; reason: string };

/** Something that tells the other nodes (a no-op on a single relay). */
export interface InvalidationPublisher {
  publish(message: Invalidation): void;
}

export const localOnly: InvalidationPublisher = { publish: () => undefined };

/** The channel's name. Regular (not sharded) pub/sub: in a Redis Cluster PUBLISH reaches every node. */
export const invalidationChannel = (prefix = 'tether'): string => `${prefix}:{nodes}:invalidate`;

/**
 * The stream every message is also appended to (capped), so that a node whose subscription was
 * cut replays what it missed. Same hash tag as the node registry: one slot, one script.
 */
export const invalidationLog = (prefix = 'tether'): string => `${prefix}:{nodes}:invalidations`;

/** Messages the log keeps (about: MAXLEN ~): far more revocations than one outage sees. */
const LOG_LENGTH = 10_000;

// KEYS: the log. ARGV: the message, the channel, the log's length. Appends the message and
// publishes it prefixed with its stream id and a newline, so receivers know how far they got.
const PUBLISH = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'm', ARGV[1])
redis.call('PUBLISH', ARGV[2], id .. '\\n' .. ARGV[1])
return id`;

interface Commands {
  tetherInvalidate(log: string, message: string, channel: string, length: number): Promise<string>;
}

/** Stream ids (`ms-seq`) in order; undefined for something that is not one. */
function streamId(text: string): [number, number] | undefined {
  const m = /^(\d{1,16})-(\d{1,16})$/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** True when stream id `a` comes after `b`. */
export function streamIdAfter(a: string, b: string): boolean {
  const x = streamId(a);
  const y = streamId(b);
  if (!x || !y) return false;
  return x[0] > y[0] || (x[0] === y[0] && x[1] > y[1]);
}

const MAX_MESSAGE = 4096;

/** The message, checked field by field, or undefined when it is not one this relay sends. */
export function parseInvalidation(text: string): Invalidation | undefined {
  if (text.length > MAX_MESSAGE) return undefined;
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || typeof v.origin !== 'string') return undefined;
  if (v.kind === 'user-revoked') {
    if (typeof v.userId !== 'number' || !Number.isSafeInteger(v.userId) || v.userId <= 0) return undefined;
    if (typeof v.user !== 'string' || typeof v.reason !== 'string' || typeof v.deleted !== 'boolean') return undefined;
    return { kind: 'user-revoked', origin: v.origin, userId: v.userId, user: v.user, reason: v.reason, deleted: v.deleted };
  }
  if (v.kind === 'tunnel-deleted') {
    if (typeof v.name !== 'string' || v.name === '') return undefined;
    return { kind: 'tunnel-deleted', origin: v.origin, name: v.name };
  }
  if (v.kind === 'tunnel-disabled') {
    if (typeof v.name !== 'string' || v.name === '' || typeof v.disabled !== 'boolean' || typeof v.reason !== 'string') return undefined;
    return { kind: 'tunnel-disabled', origin: v.origin, name: v.name, disabled: v.disabled, reason: v.reason };
  }
  if (v.kind === 'cache-purged') {
    if (typeof v.tunnel !== 'string' || v.tunnel === '') return undefined;
    return { kind: 'cache-purged', origin: v.origin, tunnel: v.tunnel };
  }
  if (v.kind === 'grant-changed') {
    if (typeof v.tunnel !== 'string' || v.tunnel === '' || typeof v.reason !== 'string') return undefined;
    if (typeof v.userId !== 'number' || !Number.isSafeInteger(v.userId) || v.userId <= 0) return undefined;
    return { kind: 'grant-changed', origin: v.origin, tunnel: v.tunnel, userId: v.userId, reason: v.reason };
  }
  return undefined;
}

export interface InvalidationHandlers {
  /** A message from another node. */
  apply(message: Invalidation): void;
  /** The subscription came back after an outage: messages may have been missed. */
  resubscribed(): void;
}

/**
 * Invalidation over Redis pub/sub. Publishing goes through the store's client (it fails at once
 * while Redis is down: the local action has already happened, a warning is logged). Receiving
 * needs a connection of its own (a subscribed connection takes no other commands): a duplicate
 * of the store's client, which resubscribes by itself after a reconnect.
 */
export class RedisInvalidations implements InvalidationPublisher {
  private readonly channel: string;
  private readonly logKey: string;
  private subscriber: RedisClient | undefined;
  private lost = false;
  /** The id of the last logged message this node has acted on (or seen before it started). */
  private cursor = '0-0';

  constructor(
    private readonly client: RedisClient,
    private readonly nodeId: string,
    private readonly handlers: InvalidationHandlers,
    private readonly log: FastifyBaseLogger,
    prefix?: string,
  ) {
    this.channel = invalidationChannel(prefix);
    this.logKey = invalidationLog(prefix);
    client.defineCommand('tetherInvalidate', { lua: PUBLISH, numberOfKeys: 1 });
  }

  async start(): Promise<void> {
    const sub: RedisClient = this.client instanceof Cluster ? this.client.duplicate() : this.client.duplicate();
    this.subscriber = sub;
    sub.on('error', () => {
      // The store's client already logs the outage; a lost subscription is logged on 'close'.
    });
    sub.on('close', () => {
      if (this.lost || this.subscriber !== sub) return;
      this.lost = true;
      this.log.warn('invalidation subscription lost (Redis unreachable): revocations made on other nodes reach this one only through their effects on the store until it is back');
    });
    sub.on('ready', () => {
      if (!this.lost) return;
      this.lost = false;
      this.handlers.resubscribed();
      void this.replay();
    });
    sub.on('message', (_channel: string, text: string) => this.receive(text));
    await sub.connect();
    await sub.subscribe(this.channel);
    // Where the log stands now: what came before this node started is not its business.
    const [last] = await this.client.xrevrange(this.logKey, '+', '-', 'COUNT', 1);
    if (last && streamIdAfter(last[0], this.cursor)) this.cursor = last[0];
  }

  /** One message from the channel: `ID\nJSON` (or bare JSON, not logged). */
  receive(text: string): void {
    const newline = text.indexOf('\n');
    const id = newline > 0 ? text.slice(0, newline) : '';
    if (streamId(id)) {
      // Already acted on (a replay got there first).
      if (!streamIdAfter(id, this.cursor)) return;
      this.cursor = id;
      this.act(text.slice(newline + 1));
    } else {
      this.act(text);
    }
  }

  /**
   * After an outage of this node's subscription: acts on every logged message it missed, in
   * order (a user revoked meanwhile has its links here closed now, not left open), then says so.
   */
  async replay(): Promise<number> {
    let count = 0;
    try {
      // The subscriber and the client that reads the log reconnect on their own schedules: the
      // log is read once the client is back too (a few tries, then the warning below).
      for (let attempt = 0; this.client.status !== 'ready' && attempt < 20; attempt++) await new Promise((resolve) => setTimeout(resolve, 250));
      for (;;) {
        const entries = await this.client.xrange(this.logKey, `(${this.cursor}`, '+', 'COUNT', 500);
        for (const [id, fields] of entries) {
          if (!streamIdAfter(id, this.cursor)) continue;
          this.cursor = id;
          const text = fields[fields.indexOf('m') + 1];
          if (typeof text === 'string') this.act(text);
          count++;
        }
        if (entries.length < 500) break;
      }
      this.log.info({ replayed: count }, 'invalidation subscription back: caches dropped, messages sent meanwhile replayed from the log');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'invalidation subscription back, but the log of missed messages could not be read: revocations made meanwhile close links here only when they reconnect');
    }
    return count;
  }

  private act(text: string): void {
    const message = parseInvalidation(text);
    if (!message) {
      this.log.warn({ length: text.length }, 'ignored a malformed invalidation message');
      return;
    }
    // This node acted before it published.
    if (message.origin === this.nodeId) return;
    try {
      this.handlers.apply(message);
    } catch (err) {
      this.log.error({ err: (err as Error).message, kind: message.kind }, 'acting on an invalidation message failed');
    }
  }

  publish(message: Invalidation): void {
    (this.client as unknown as Commands).tetherInvalidate(this.logKey, JSON.stringify(message), this.channel, LOG_LENGTH).catch((err: Error) => {
      this.log.warn({ kind: message.kind, err: err.message }, 'could not tell the other nodes (Redis unreachable): acted on this node only; others see the change in the store but keep open links of a revoked identity');
    });
  }

  async close(): Promise<void> {
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (!sub) return;
    try {
      await sub.quit();
    } catch {
      sub.disconnect();
    }
  }
}
