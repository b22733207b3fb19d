/**
 * Builders for the client core's tests. Not exported from the package index.
 * (Named `testing.ts`, not `test-helpers.ts`: `node --test` runs every `test-*.js` it finds.)
 */
import { once } from 'node:events';
import net from 'node:net';
import {
  createSessionPair,
  decodeOpenMetadata,
  ResumableStream,
  WireCode,
  type ByteStream,
  type MuxSession,
  type MuxStream,
  type OpenRequest,
  type TetherError,
} from '@tether/shared';
import type { Endpoint, SessionFactory } from '../core/relay-session.js';

export interface MemoryRelay {
  factory: SessionFactory;
  /** The relay-side session of every connection made, in order. */
  peers: MuxSession[];
  calls: [Endpoint, string | undefined][];
  /** The relay each call asked for (a pool passes one; undefined otherwise), in call order. */
  relays: (string | undefined)[];
  /** Thrown by the next calls of the factory, in order. */
  failures: TetherError[];
}

/**
 * A SessionFactory over in-memory session pairs: the client gets `a`, the test plays the relay
 * with `b` (in `peers`), answering streams with `serve` when given.
 */
export function memoryRelay(serve?: (stream: MuxStream, tunnel: string, request: OpenRequest) => void): MemoryRelay {
  const peers: MuxSession[] = [];
  const calls: [Endpoint, string | undefined][] = [];
  const relays: (string | undefined)[] = [];
  const failures: TetherError[] = [];
  const factory: SessionFactory = async (endpoint, tunnel, relay) => {
    calls.push([endpoint, tunnel]);
    relays.push(relay);
    const failure = failures.shift();
    if (failure) throw failure;
    const { a, b } = createSessionPair();
    if (serve) b.on('stream', (stream, request) => serve(stream, request.tunnel, request));
    let closedByUs = false;
    const closed = new Promise<TetherError | undefined>((resolve) => a.once('close', (err) => resolve(closedByUs ? undefined : err)));
    peers.push(b);
    return {
      session: a,
      closed,
      close: () => {
        closedByUs = true;
        a.destroy();
      },
    };
  };
  return { factory, peers, calls, relays, failures };
}

/** Listens on 127.0.0.1 port 0 and returns the port. */
export async function listening(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/** A loopback port nobody listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listening(server);
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Plays the host side for streams of any kind across every session of a memory relay: a NEW
 * hello gets a ResumableStream (kept by id, so a RESUME through another session finds it), a
 * plain OPEN the MuxStream itself. `handle` gets the accepted stream.
 */
export function acceptingHost(handle: (stream: ByteStream, tunnel: string) => void): (mux: MuxStream, tunnel: string, request: OpenRequest) => void {
  const table = new Map<string, ResumableStream>();
  return (mux, tunnel, request) => {
    const hello = decodeOpenMetadata(request.metadata).hello;
    if (hello?.kind === 'resume') {
      const stream = table.get(hello.id.toString('hex'));
      if (stream) stream.acceptResume(mux, hello);
      else mux.reject(WireCode.RESUME_UNKNOWN, 'no such stream');
      return;
    }
    mux.accept();
    if (!hello) return handle(mux, tunnel);
    const stream = ResumableStream.accept(mux, tunnel, hello);
    table.set(stream.key, stream);
    handle(stream, tunnel);
  };
}
