// Raw protocol clients of the cluster benchmark, in the driver process: one MuxSession per
// WebSocket (the same session code the real clients use), dialled from a chosen loopback source
// address (a relay admits at most maxLinksPerAddress = 256 links per source address).
// A host accepts every stream; the first byte picks what it does with the rest:
//   'E' echo: every byte comes back (credit returned only once the echo is queued below the
//       high-water mark);
//   'S' sink: bytes are hashed; after the connector's FIN the host answers the SHA-256 and ends.
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import shared from '@tether/shared';

const { MuxSession, SUBPROTOCOL, MAX_FRAME_SIZE_CEILING, MAX_FRAME_SIZE_HEADER } = shared;
const HIGH_WATER = 4 * 1024 * 1024;

/** Opens a WebSocket session to `url` + `path` as `token` from `localAddress`. Resolves { ws, session, closed }. */
export function dial(url, path, token, localAddress) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${path}`, [SUBPROTOCOL], {
      headers: { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
      maxPayload: MAX_FRAME_SIZE_CEILING + 64 * 1024,
      skipUTF8Validation: true,
      generateMask: (mask) => mask.fill(0), // loopback: no intermediary (as the real client does)
      localAddress,
      handshakeTimeout: 30_000,
    });
    let maxFrameSize;
    ws.on('upgrade', (res) => {
      const n = Number(res.headers[MAX_FRAME_SIZE_HEADER]);
      if (Number.isInteger(n) && n >= 1024) maxFrameSize = n;
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => reject(new Error(`${path} on ${url}: HTTP ${res.statusCode} ${body.slice(0, 300)}`)));
      ws.terminate();
    });
    ws.once('error', (err) => reject(new Error(`${path} on ${url} from ${localAddress}: ${err.message}`)));
    ws.once('open', () => {
      let buffered = 0;
      const session = new MuxSession({
        role: 'client',
        ...(maxFrameSize ? { maxFrameSize } : {}),
        send: (message) => {
          buffered += message.length;
          ws.send(message, { binary: true }, () => {
            buffered -= message.length;
            if (buffered < HIGH_WATER / 2) session.transportDrained();
          });
          return buffered < HIGH_WATER;
        },
      });
      ws.on('error', () => undefined);
      ws.on('message', (data, isBinary) => {
        if (isBinary) session.receive(data);
      });
      const closed = new Promise((r) => ws.once('close', (code, reason) => {
        session.destroy();
        r({ code, reason: reason.toString() });
      }));
      session.ping();
      resolve({ ws, session, closed, close: () => ws.terminate() });
    });
  });
}

/** What a host does with one accepted stream (see the top of this file). */
function serve(stream) {
  let mode;
  let hash;
  let held = 0;
  stream.on('drain', () => {
    stream.consume(held);
    held = 0;
  });
  stream.on('data', (chunk) => {
    let body = chunk;
    if (mode === undefined) {
      mode = String.fromCharCode(chunk[0]);
      body = chunk.subarray(1);
      if (mode === 'S') hash = createHash('sha256');
    }
    if (mode === 'S') {
      hash.update(body);
      stream.consume(chunk.length);
    } else if (stream.write(body.length ? body : Buffer.alloc(0)) || body.length === 0) {
      stream.consume(chunk.length);
    } else {
      held += chunk.length;
    }
  });
  stream.on('end', () => {
    if (mode === 'S') stream.write(hash.digest());
    stream.end();
  });
  stream.on('error', () => undefined);
  stream.accept();
}

/** A host link for `tunnel` on `url`: accepts and serves every stream. Resolves the session. */
export async function startHost(url, token, tunnel, localAddress) {
  const link = await dial(url, `/v1/host?tunnel=${encodeURIComponent(tunnel)}`, token, localAddress);
  link.streams = 0;
  link.session.on('stream', (stream) => {
    link.streams++;
    serve(stream);
  });
  return link;
}

/** Opens a stream on a connector session; resolves { stream, ms } at OPEN_OK, rejects on refusal. */
export function openStream(session, tunnel) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const stream = session.openStream(tunnel);
    const onClose = (err) => reject(new Error(`open of ${tunnel} refused: ${err?.code ?? ''} ${err?.message ?? 'closed'}`));
    stream.once('close', onClose);
    stream.once('open', () => {
      stream.off('close', onClose);
      resolve({ stream, ms: performance.now() - t0 });
    });
  });
}

/** Sends 'E' + `payload` on `stream` and checks it comes back intact; throws if not. */
export function echoCheck(stream, payload, tunnel) {
  return new Promise((resolve, reject) => {
    const parts = [];
    let got = 0;
    const timer = setTimeout(() => reject(new Error(`echo on ${tunnel}: ${got} of ${payload.length} bytes after 30 s`)), 30_000);
    stream.on('data', (chunk) => {
      parts.push(chunk);
      got += chunk.length;
      stream.consume(chunk.length);
      if (got >= payload.length) {
        clearTimeout(timer);
        const back = Buffer.concat(parts);
        if (!back.equals(payload)) return reject(new Error(`DATA CORRUPTED: echo on ${tunnel} came back different (${back.length} bytes)`));
        resolve();
      }
    });
    stream.once('close', (err) => {
      clearTimeout(timer);
      if (got < payload.length) reject(new Error(`echo on ${tunnel}: stream closed after ${got} bytes (${err?.code ?? ''} ${err?.message ?? ''})`));
    });
    stream.write(Buffer.concat([Buffer.from('E'), payload]));
  });
}

/**
 * Sends 'S' + `bytes` bytes on `stream` (one-way, with backpressure), then FIN; resolves the
 * seconds until the host's SHA-256 of what it received came back. Throws if it differs.
 */
export function sinkTransfer(stream, bytes, tunnel) {
  return new Promise((resolve, reject) => {
    const chunk = createHash('sha512').update(tunnel).digest();
    const block = Buffer.alloc(256 * 1024);
    for (let i = 0; i < block.length; i += chunk.length) chunk.copy(block, i);
    const sent = createHash('sha256');
    const reply = [];
    let left = bytes;
    const t0 = performance.now();
    stream.on('data', (c) => {
      reply.push(c);
      stream.consume(c.length);
    });
    stream.once('end', () => {
      const theirs = Buffer.concat(reply);
      const ours = sent.digest();
      if (!theirs.equals(ours)) return reject(new Error(`DATA CORRUPTED: ${tunnel}: the host's SHA-256 of ${bytes} bytes differs from the sender's`));
      resolve((performance.now() - t0) / 1000);
    });
    stream.once('close', (err) => {
      if (err) reject(new Error(`transfer on ${tunnel} failed: ${err.code} ${err.message}`));
    });
    stream.write(Buffer.from('S'));
    const pump = () => {
      while (left > 0) {
        const piece = left >= block.length ? block : block.subarray(0, left);
        left -= piece.length;
        sent.update(piece);
        if (!stream.write(piece)) return stream.once('drain', pump);
      }
      stream.end();
    };
    pump();
  });
}
