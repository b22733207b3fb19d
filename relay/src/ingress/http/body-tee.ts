import { pipeline, Readable, Transform } from 'node:stream';

/**
 * Bytes the cache holds for bodies still arriving, across all of them: many slow misses at once
 * must not hold more memory than the node's bound says, whatever the entries' own limit.
 */
export class PendingBytes {
  private held = 0;

  constructor(readonly max: number) {}

  /** Takes `bytes` if they fit; false (and nothing taken) if not. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.max) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held -= bytes;
  }

  get bytes(): number {
    return this.held;
  }
}

/**
 * Passes `source` through to the returned stream chunk by chunk (the client gets the first byte
 * as soon as the origin sends it; backpressure runs end to end through pipeline) while keeping a
 * copy of up to `limit` bytes. `onComplete` gets the whole body once the source has ended
 * cleanly and it fitted; a body over the limit, one the pending budget cannot hold, one that
 * errors, or one the client abandons (destroying the returned stream destroys the source) is
 * never handed over.
 */
export function teeBody(source: Readable, limit: number, pending: PendingBytes, onComplete: (body: Buffer) => void): Readable {
  let chunks: Buffer[] | undefined = [];
  let kept = 0;
  const release = (): void => {
    pending.give(kept);
    kept = 0;
    chunks = undefined;
  };
  const tee = new Transform({
    transform(chunk: Buffer | string, _encoding, done) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (chunks !== undefined) {
        if (kept + buf.length > limit || !pending.take(buf.length)) release();
        else {
          kept += buf.length;
          chunks.push(buf);
        }
      }
      done(null, buf);
    },
    flush(done) {
      const body = chunks === undefined ? undefined : Buffer.concat(chunks, kept);
      release();
      if (body !== undefined) onComplete(body);
      done();
    },
  });
  tee.once('close', release);
  // The callback only has to exist: pipeline destroys both streams on any error, which is the
  // propagation we want (the client sees the origin's error; the origin sees the client leave).
  pipeline(source, tee, () => undefined);
  return tee;
}

/** Bodies held whole in memory, by the stream that would carry them (see wholeBody). */
const wholeBodies = new WeakMap<Readable, Buffer>();

/** Up to this size, a body in memory is written out in one piece rather than streamed. */
const WHOLE_LIMIT = 64 * 1024;

/** A stored body as a byte stream, in slices so a large one still honours backpressure. */
export function bodyStream(body: Buffer, slice = 64 * 1024): Readable {
  function* slices(): Generator<Buffer> {
    for (let at = 0; at < body.length; at += slice) yield body.subarray(at, at + slice);
  }
  const stream = Readable.from(slices(), { objectMode: false });
  if (body.length <= WHOLE_LIMIT) wholeBodies.set(stream, body);
  return stream;
}

/**
 * The whole of a small body in memory (a cache hit) when `stream` is the untouched stream made
 * for it: the ingress then writes it with the header section in one go. A layer that replaces the
 * body (compression) makes a new stream, which has none.
 */
export function wholeBody(stream: Readable): Buffer | undefined {
  return stream.readableDidRead ? undefined : wholeBodies.get(stream);
}

/** An empty body (HEAD, 304). */
export function emptyBody(): Readable {
  return Readable.from([], { objectMode: false });
}
