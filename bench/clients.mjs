// The client ends of the benchmark, in the driver process: bulk transfers and ping-pong over a
// plain TCP socket (direct to the target, or into the tunnel's local listener) and bulk
// transfers over a WebSocket (websockify). They speak bench/target.mjs's protocol.
import net from 'node:net';
import WebSocket from 'ws';
import { block, writeBytes } from './io.mjs';

const CHUNK = block(0x62);
const WS_HIGH_WATER = 4 * 1024 * 1024;

function header(kind, n) {
  const h = Buffer.alloc(9);
  h[0] = kind.charCodeAt(0);
  h.writeBigUInt64BE(BigInt(n), 1);
  return h;
}

/** Connects with Nagle off, as every hop of the tunnel does. */
export function connectTcp(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Runs `body(resolve, reject)` on a socket; settles once, and on a failure or early close. */
function onSocket(socket, body) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (fn) => (value) => {
      if (settled) return;
      settled = true;
      fn(value);
    };
    const ok = done(resolve);
    const fail = done(reject);
    socket.on('error', (err) => fail(err));
    socket.on('close', () => fail(new Error('connection closed before the transfer finished')));
    body(ok, fail);
  });
}

/**
 * Times one transfer: `settle(connection, body)` runs `body(resolve)` and settles when it
 * resolves (or the connection fails); then `close(connection)`. Resolves with the seconds taken.
 * An optional `probe` ({ begin(), end(seconds) }) is called right before the clock starts and
 * right after it stops (bench/cpu.mjs reads CPU time over exactly the transfer).
 */
async function timed(connection, settle, body, close, probe) {
  probe?.begin();
  const t0 = performance.now();
  await settle(connection, body);
  const seconds = (performance.now() - t0) / 1000;
  probe?.end(seconds);
  close(connection);
  return seconds;
}

/** A data listener that calls `done` once `n` bytes have arrived. */
function countTo(n, done) {
  let got = 0;
  return (chunk) => {
    got += chunk.length;
    if (got >= n) done();
  };
}

const destroy = (socket) => socket.destroy();
const terminate = (ws) => ws.terminate();

/** Sends `n` bytes to the sink; resolves with seconds until the sink confirmed receiving all. */
export async function tcpUpload(port, n, probe) {
  const socket = await connectTcp(port);
  return timed(socket, onSocket, (resolve) => {
    socket.once('data', () => resolve());
    socket.write(header('S', n));
    writeBytes(socket, n, CHUNK);
  }, destroy, probe);
}

/** Asks the source for `n` bytes; resolves with seconds until all arrived. */
export async function tcpDownload(port, n, probe) {
  const socket = await connectTcp(port);
  return timed(socket, onSocket, (resolve) => {
    socket.on('data', countTo(n, resolve));
    socket.write(header('R', n));
  }, destroy, probe);
}

const PROGRESS_UNIT = 64 * 1024; // the target's 'P' sink answers one byte per 64 KiB it read

/**
 * Writes `n` bytes to each of `sockets`, one 64 KiB block per socket per round, skipping sockets
 * still waiting for 'drain'. (Writing each socket until write() asks to wait would not be fair: on
 * loopback the kernel takes megabytes at once, so the first sockets would get a head start of
 * most of their bytes before the last got any.)
 */
function writeRoundRobin(sockets, n) {
  const left = sockets.map(() => n);
  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(round);
  };
  const round = () => {
    scheduled = false;
    let wrote = false;
    let pending = false;
    sockets.forEach((socket, i) => {
      if (left[i] === 0 || socket.destroyed) return;
      pending = true;
      if (socket.writableNeedDrain) return;
      const piece = left[i] >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left[i]);
      left[i] -= piece.length;
      socket.write(piece);
      wrote = true;
    });
    // Sockets that could not take a block call the next round when they drain.
    if (wrote && pending) schedule();
  };
  for (const socket of sockets) socket.on('drain', schedule);
  round();
}

/**
 * What `connect()` resolves with, connected again after a second, up to 10 times, while it
 * resolves undefined: a relay sheds opens when it is busy, and the connector then closes the
 * local connection. `shed.n` counts the retries.
 */
async function againWhileShed(port, shed, connect) {
  for (let attempt = 1; ; attempt++) {
    const connected = await connect();
    if (connected !== undefined) return connected;
    if (attempt >= 10) throw new Error(`no stream to the target on port ${port} after ${attempt} attempts`);
    shed.n++;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** A TCP connection whose stream reaches the target: the target's 'H' came back (againWhileShed). */
function openEndToEnd(port, shed) {
  return againWhileShed(port, shed, async () => {
    const socket = await connectTcp(port);
    // Errors before the transfer starts show as a destroyed socket, which it checks.
    socket.on('error', () => undefined);
    const ok = await new Promise((resolve) => {
      const settle = (value) => () => {
        socket.off('data', hello).off('close', closed);
        resolve(value);
      };
      // The 'H' is all the target sends before the request: the next byte belongs to the transfer.
      const hello = settle(true);
      const closed = settle(false);
      socket.once('data', hello).once('close', closed);
      socket.write('H');
    });
    if (ok) return socket;
    socket.destroy();
    return undefined;
  });
}

/**
 * Opens `count` TCP connections to `port` at once and, once every one reaches the target, starts
 * the same transfer of `n` bytes on all of them in the same turn: 'upload' to the target's
 * progress sink (written round-robin), 'download' from its source. Resolves with { reopened:
 * connections opened again (see openEndToEnd), seconds: until the last finished, finishes:
 * seconds of each, mid: { from, to: seconds when all streams together had moved a quarter and
 * three quarters of the bytes, bytes: what each moved in between } } (an upload's bytes are those
 * the target confirmed, in steps of 64 KiB).
 */
export async function parallelTransfers(port, count, n, direction, timeoutMs = 120_000) {
  const shed = { n: 0 };
  const sockets = await Promise.all(Array.from({ length: count }, () => openEndToEnd(port, shed)));
  if (sockets.some((socket) => socket.destroyed)) {
    for (const socket of sockets) socket.destroy();
    throw new Error(`a connection to port ${port} closed before the ${direction}s started`);
  }
  const units = Math.floor(n / PROGRESS_UNIT);
  const progress = new Array(count).fill(0);
  const finishes = new Array(count).fill(NaN);
  // Snapshots when all streams together have moved a quarter and three quarters of the bytes.
  const marks = [0.25, 0.75].map((f) => ({ at: f * count * n, t: NaN, bytes: undefined }));
  let total = 0;
  let left = count;
  const t0 = performance.now();
  const advance = (i, bytes) => {
    total += bytes - progress[i];
    progress[i] = bytes;
    for (const mark of marks) {
      if (mark.bytes === undefined && total >= mark.at) {
        mark.t = (performance.now() - t0) / 1000;
        mark.bytes = progress.slice();
      }
    }
  };
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${left} of ${count} ${direction}s unfinished after ${timeoutMs} ms`)), timeoutMs);
      const fail = (err) => {
        clearTimeout(timer);
        reject(err);
      };
      const finish = (i) => {
        if (!Number.isNaN(finishes[i])) return;
        finishes[i] = (performance.now() - t0) / 1000;
        if (--left === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      sockets.forEach((socket, i) => {
        socket.on('error', fail);
        socket.on('close', () => {
          if (Number.isNaN(finishes[i])) fail(new Error(`${direction} ${i} closed after ${progress[i]} of ${n} bytes`));
        });
        if (direction === 'upload') {
          let answers = 0;
          socket.on('data', (chunk) => {
            answers += chunk.length;
            advance(i, answers > units ? n : answers * PROGRESS_UNIT);
            if (answers > units) finish(i);
          });
        } else {
          socket.on('data', (chunk) => {
            advance(i, progress[i] + chunk.length);
            if (progress[i] >= n) finish(i);
          });
        }
      });
      for (const socket of sockets) socket.write(header(direction === 'upload' ? 'P' : 'R', n));
      if (direction === 'upload') writeRoundRobin(sockets, n);
    });
  } finally {
    for (const socket of sockets) socket.destroy();
  }
  const [from, to] = marks;
  return {
    reopened: shed.n,
    seconds: Math.max(...finishes),
    finishes,
    mid: { from: from.t, to: to.t, bytes: to.bytes.map((b, i) => b - from.bytes[i]) },
  };
}

/**
 * An echo connection: `rtt()` sends `size` bytes and resolves with ms until they came back; it
 * rejects when the connection closes first (a relay that shed the stream closes it).
 */
export async function echoClient(port, size = 64) {
  const socket = await connectTcp(port);
  socket.write('E');
  const payload = Buffer.alloc(size, 0x70);
  let waiting;
  let got = 0;
  let closed = false;
  socket.on('data', (chunk) => {
    got += chunk.length;
    if (got >= size && waiting) {
      got -= size;
      const w = waiting;
      waiting = undefined;
      w.resolve();
    }
  });
  socket.on('error', () => undefined);
  const closedError = () => new Error(`the echo connection to port ${port} closed`);
  socket.on('close', () => {
    closed = true;
    waiting?.reject(closedError());
    waiting = undefined;
  });
  return {
    rtt() {
      if (closed) return Promise.reject(closedError());
      return new Promise((resolve, reject) => {
        const t0 = performance.now();
        waiting = { resolve: () => resolve(performance.now() - t0), reject };
        socket.write(payload);
      });
    },
    close() {
      socket.destroy();
    },
  };
}

/** An echo connection that has made one round trip to the target (againWhileShed). */
export function echoClientEndToEnd(port, shed = { n: 0 }) {
  return againWhileShed(port, shed, async () => {
    const echo = await echoClient(port);
    try {
      await echo.rtt();
      return echo;
    } catch {
      echo.close();
      return undefined;
    }
  });
}

// websockify is driven like any standard WebSocket client (a browser, noVNC) would drive it:
// frames to the server masked with a random key (RFC 6455), no compression.
function openWs(port) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false, skipUTF8Validation: true });
    // websockify closes with code 1005 (no status), which ws reports as an error: expected.
    ws.on('error', (err) => {
      if (ws.readyState === WebSocket.CONNECTING) reject(err);
    });
    ws.once('open', () => resolve(ws));
  });
}

function onWs(ws, body) {
  return new Promise((resolve, reject) => {
    let settled = false;
    ws.on('close', () => {
      if (!settled) reject(new Error('websocket closed before the transfer finished'));
    });
    body(() => {
      settled = true;
      resolve();
    });
  });
}

/** Sends `n` bytes as 64 KiB binary messages with backpressure; seconds until the sink confirmed. */
export async function wsUpload(port, n) {
  const ws = await openWs(port);
  return timed(ws, onWs, (resolve) => {
    ws.once('message', () => resolve());
    ws.send(header('S', n));
    let left = n;
    let inFlight = 0;
    let paused = false;
    const sent = (len) => () => {
      inFlight -= len;
      if (paused && inFlight < WS_HIGH_WATER / 2) {
        paused = false;
        pump();
      }
    };
    const pump = () => {
      while (left > 0) {
        const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
        left -= chunk.length;
        inFlight += chunk.length;
        ws.send(chunk, { binary: true }, sent(chunk.length));
        if (inFlight >= WS_HIGH_WATER) {
          paused = true;
          return;
        }
      }
    };
    pump();
  }, terminate);
}

/** Asks the source for `n` bytes over the WebSocket; seconds until all arrived. */
export async function wsDownload(port, n) {
  const ws = await openWs(port);
  return timed(ws, onWs, (resolve) => {
    ws.on('message', countTo(n, resolve));
    ws.send(header('R', n));
  }, terminate);
}
