// Real gRPC peers for test/e2e/grpc.test.mjs: a @grpc/grpc-js server (insecure credentials, so
// h2c with prior knowledge, what `tether share --http h2c` forwards to) with one method of each
// kind, and clients of it. The server tells what it saw (deadlines, metadata, cancellations)
// through an EventEmitter, so tests wait for events instead of for time.
import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const PROTO = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/echo.proto');
const definition = protoLoader.loadSync(PROTO, { keepCase: false, longs: Number, defaults: true });
const { Echo } = grpc.loadPackageDefinition(definition).tether.test;

export { grpc };

/** Unary asks for this text: the handler fails with NOT_FOUND and custom trailing metadata. */
export const MISSING = 'missing';
/** ServerStream with this count sends one note and then holds the call open until it is cancelled. */
export const HOLD = -1;

/**
 * Starts the Echo server on 127.0.0.1, port 0. Returns `{ port, events, stop }`; `events` emits
 * `call` (method, { deadline, metadata }) when a call starts and `cancelled` (method) when the
 * server sees a call cancelled (the client's cancel, its deadline, or the stream reset).
 */
export async function startEchoServer() {
  const events = new EventEmitter();
  const server = new grpc.Server();
  const seen = (method, call) => {
    events.emit('call', method, { deadline: call.getDeadline(), metadata: call.metadata.getMap() });
    call.on('cancelled', () => events.emit('cancelled', method));
  };
  server.addService(Echo.service, {
    unary(call, callback) {
      seen('unary', call);
      const note = call.request;
      if (note.text === MISSING) {
        const trailers = new grpc.Metadata();
        trailers.set('x-why', 'no note by that name');
        trailers.set('x-detail-bin', Buffer.from([0, 1, 2, 255]));
        callback({ code: grpc.status.NOT_FOUND, details: `no note ${note.text}`, metadata: trailers });
        return;
      }
      const answer = () => {
        const trailers = new grpc.Metadata();
        trailers.set('x-served-by', 'echo');
        callback(null, { text: `echo: ${note.text}`, count: note.count + 1 }, trailers);
      };
      if (note.delayMs > 0) {
        const timer = setTimeout(answer, note.delayMs);
        call.on('cancelled', () => clearTimeout(timer));
      } else {
        const headers = new grpc.Metadata();
        headers.set('x-echo', String(call.metadata.get('x-ask')[0] ?? ''));
        call.sendMetadata(headers);
        answer();
      }
    },
    serverStream(call) {
      seen('serverStream', call);
      const note = call.request;
      if (note.count === HOLD) {
        call.write({ text: `${note.text} 0`, count: 0 });
        return;
      }
      for (let i = 0; i < note.count; i++) call.write({ text: `${note.text} ${i}`, count: i });
      call.end();
    },
    clientStream(call, callback) {
      seen('clientStream', call);
      const texts = [];
      let total = 0;
      call.on('data', (note) => {
        texts.push(note.text);
        total += note.count;
      });
      call.on('end', () => callback(null, { text: texts.join(','), count: total }));
    },
    bidi(call) {
      seen('bidi', call);
      call.on('data', (note) => call.write({ text: note.text.toUpperCase(), count: note.count * 2 }));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    port,
    events,
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())).then(() => server.forceShutdown()),
  };
}

/**
 * An Echo client for `target` (host:port) that names `authority` in :authority (the tunnel's
 * host name at the relay). `credentials` defaults to insecure (h2c with prior knowledge).
 */
export function echoClient(target, authority, { credentials = grpc.credentials.createInsecure(), options = {} } = {}) {
  return new Echo(target, credentials, { 'grpc.default_authority': authority, ...options });
}

/** A unary call as a promise; rejects with the ServiceError, resolves `{ reply, metadata, status }`. */
export function unary(client, note, { metadata = new grpc.Metadata(), deadline } = {}) {
  return new Promise((resolve, reject) => {
    let metadataSeen;
    let status;
    const call = client.unary(note, metadata, deadline ? { deadline } : {}, (err, reply) => {
      if (err) reject(err);
      else status.then((s) => resolve({ reply, metadata: metadataSeen, status: s }));
    });
    status = statusOf(call);
    call.on('metadata', (m) => {
      metadataSeen = m;
    });
  });
}

/** The call's final status (code, details, trailing metadata) once it has one, error or not. */
export function statusOf(call) {
  // Not events.once: it rejects on the 'error' a failed call emits before its 'status'.
  return new Promise((resolve) => call.once('status', resolve));
}

/** Every message of a readable call, once it ends (rejects with its error). */
export async function collect(call) {
  const out = [];
  for await (const note of call) out.push(note);
  return out;
}
