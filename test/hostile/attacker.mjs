// A hostile client with a valid token, run as its own process by hostile.test.mjs so its work
// does not share an event loop with the measurements: `node attacker.mjs CASE RELAY_URL TOKEN`.
// Prints one JSON line with what it saw (refusal codes, close codes, counts) and exits.
import { WebSocket } from 'ws';
import shared from '@tether/shared';

const { decodeFrames, encodeData, encodeOpen, encodeOpenOk, encodePing, FrameType, SUBPROTOCOL, WireCode } = shared;
const [kind, relay, token] = process.argv.slice(2);
const wsBase = relay.replace(/^http/, 'ws');
const MESSAGE = 1_000_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const codeName = (wire) => Object.keys(WireCode).find((k) => WireCode[k] === wire) ?? String(wire);

/** A raw tether.v1 link that counts what the relay answers. */
function link(path) {
  const ws = new WebSocket(`${wsBase}${path}`, [SUBPROTOCOL], { headers: { authorization: `Bearer ${token}` } });
  const seen = { openErr: {}, reset: {}, pong: 0, openOk: [], opens: [], data: new Map(), close: undefined, refused: undefined };
  const handlers = [];
  ws.on('message', (data) => {
    decodeFrames(data, { maxFrameSize: 0xffffffff }, (f) => {
      if (f.type === FrameType.OPEN_ERR) seen.openErr[codeName(f.code)] = (seen.openErr[codeName(f.code)] ?? 0) + 1;
      else if (f.type === FrameType.RESET) seen.reset[codeName(f.code)] = (seen.reset[codeName(f.code)] ?? 0) + 1;
      else if (f.type === FrameType.PONG) seen.pong++;
      else if (f.type === FrameType.OPEN_OK) seen.openOk.push(f);
      else if (f.type === FrameType.OPEN) seen.opens.push(f);
      else if (f.type === FrameType.PING) ws.send(shared.encodePong(f.data));
      for (const h of handlers) h(f);
    });
  });
  ws.on('error', () => undefined);
  let refusedNow;
  const refusal = new Promise((resolve) => { refusedNow = resolve; });
  ws.on('unexpected-response', (req, res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      try {
        seen.refused = { status: res.statusCode, code: JSON.parse(Buffer.concat(chunks).toString()).code };
      } catch {
        seen.refused = { status: res.statusCode };
      }
      req.destroy();
      refusedNow(false);
    });
  });
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => {
    seen.close = { code, reason: reason.toString() };
    resolve(seen.close);
  }));
  const opened = Promise.race([refusal, new Promise((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('close', () => resolve(false));
  })]);
  return { ws, seen, closed, opened, on: (h) => handlers.push(h) };
}

/** Frames packed into messages of about a megabyte. */
function* batches(frames) {
  let batch = [];
  let size = 0;
  for (const frame of frames) {
    if (size + frame.length > MESSAGE) {
      yield Buffer.concat(batch);
      batch = [];
      size = 0;
    }
    batch.push(frame);
    size += frame.length;
  }
  if (batch.length) yield Buffer.concat(batch);
}

function* opens(from, count, tunnel, metadata) {
  for (let i = 0; i < count; i++) yield encodeOpen(from + 2 * i, 65_536, tunnel, metadata);
}

const cases = {
  /** PINGs by the megabyte on a socket that is never read. */
  async 'ping-flood'() {
    const c = link('/v1/connect');
    await c.opened;
    c.ws._socket.pause();
    const pings = Array.from({ length: 61_667 }, () => encodePing(Buffer.alloc(8)));
    const message = Buffer.concat(pings);
    for (let i = 0; i < 70 && !c.seen.close; i++) c.ws.send(message);
    // Never read: the relay must give up on it by itself.
    const close = await Promise.race([c.closed, sleep(15_000).then(() => undefined)]);
    return { close, pongs: c.seen.pong };
  },

  /** Messages packed with OPENs to an offline, an unknown and another user's tunnel, and DATA to no stream. */
  async 'open-flood'() {
    // Its own tunnel, shared once and then not: offline.
    const host = link('/v1/host?tunnel=atk-offline');
    await host.opened;
    host.ws.close();
    await host.closed;
    const c = link('/v1/connect');
    await c.opened;
    let id = 1;
    const send = (frames) => {
      for (const message of batches(frames)) c.ws.send(message);
    };
    for (const tunnel of ['atk-offline', 'nobody-has-this', 'good']) {
      for (let round = 0; round < 2; round++) {
        send(opens(id, 58_421, tunnel));
        id += 2 * 58_421;
      }
    }
    send(Array.from({ length: 80_000 }, (_, i) => encodeData(1_000_001 + 2 * i, Buffer.alloc(1))));
    // Until every OPEN is answered (the test checks the count), for at least 6 s of flooding and
    // at most 30 s: how long it takes depends on the machine, what matters is that none is lost.
    const sent = 6 * 58_421;
    const answered = () => Object.values(c.seen.openErr).reduce((a, b) => a + b, 0);
    const started = Date.now();
    while ((Date.now() - started < 6000 || answered() < sent) && Date.now() - started < 30_000 && !c.seen.close) await sleep(100);
    c.ws.close();
    return { openErr: c.seen.openErr, reset: c.seen.reset, close: c.seen.close };
  },

  /** A host that stops reading, and its own connector sending it OPENs with 4 KiB of metadata. */
  async 'slow-host'() {
    const host = link('/v1/host?tunnel=atk-host');
    await host.opened;
    host.ws._socket.pause();
    const c = link('/v1/connect');
    await c.opened;
    const metadata = Buffer.alloc(4000, 7);
    let id = 1;
    for (let cycle = 0; cycle < 4; cycle++) {
      for (const message of batches(opens(id, 4096, 'atk-host', metadata))) c.ws.send(message);
      id += 2 * 4096;
      await sleep(1500);
    }
    // Reading again, it finds what the relay did meanwhile (a paused socket sees no close).
    host.ws._socket.resume();
    const hostClose = await Promise.race([host.closed, sleep(15_000).then(() => undefined)]);
    c.ws.close();
    return { openErr: c.seen.openErr, hostClose };
  },

  /**
   * One connector, two streams: one to a host that accepts and then stops reading, one to an
   * echo host. The echo must keep answering while the stuck stream is full.
   */
  async 'stuck-stream'() {
    const stuck = link('/v1/host?tunnel=atk-stuck');
    const echo = link('/v1/host?tunnel=atk-echo');
    await Promise.all([stuck.opened, echo.opened]);
    stuck.on((f) => {
      if (f.type === FrameType.OPEN) {
        stuck.ws.send(encodeOpenOk(f.streamId, 16 * 1024 * 1024));
        setTimeout(() => stuck.ws._socket.pause(), 50);
      }
    });
    echo.on((f) => {
      if (f.type === FrameType.OPEN) echo.ws.send(encodeOpenOk(f.streamId, 1024 * 1024));
      if (f.type === FrameType.DATA) {
        echo.ws.send(encodeData(f.streamId, f.payload));
        echo.ws.send(shared.encodeWindow(f.streamId, f.payload.length));
      }
    });
    const c = link('/v1/connect');
    await c.opened;
    let lastEcho = performance.now();
    let maxGap = 0;
    let echoes = 0;
    c.on((f) => {
      if (f.type === FrameType.DATA && f.streamId === 3) {
        const now = performance.now();
        maxGap = Math.max(maxGap, now - lastEcho);
        lastEcho = now;
        echoes++;
      }
      if (f.type === FrameType.WINDOW && f.streamId === 3) undefined;
    });
    c.ws.send(encodeOpen(1, 1024 * 1024, 'atk-stuck'));
    c.ws.send(encodeOpen(3, 1024 * 1024, 'atk-echo'));
    await sleep(300);
    const credit = c.seen.openOk.find((f) => f.streamId === 1)?.window ?? 0;
    // Fill the stuck stream with all the credit it got.
    for (let sent = 0; sent < credit; sent += 65_536) c.ws.send(encodeData(1, Buffer.alloc(Math.min(65_536, credit - sent))));
    const until = performance.now() + 8000;
    lastEcho = performance.now();
    while (performance.now() < until && !c.seen.close) {
      c.ws.send(encodeData(3, Buffer.from('ping')));
      await sleep(100);
    }
    const result = { credit, echoes, maxGapMs: Math.round(maxGap), connectorClose: c.seen.close, stuckReset: c.seen.reset };
    c.ws.close();
    return result;
  },

  /** As many links as one identity can open. */
  async links() {
    const links = [];
    for (let i = 0; i < 300; i++) {
      const l = link('/v1/connect');
      links.push(l);
      if (!(await l.opened)) break;
    }
    await sleep(200);
    const accepted = links.filter((l) => !l.seen.refused && !l.seen.close).length;
    const refused = links.find((l) => l.seen.refused)?.seen.refused;
    for (const l of links) l.ws.terminate();
    return { accepted, refused };
  },

  /** Claims tunnel names one after another. */
  async names() {
    const results = [];
    for (let i = 0; i < 30; i++) {
      const host = link(`/v1/host?tunnel=atk-name-${i}`);
      const ok = await host.opened;
      await sleep(20);
      results.push(ok ? 'ok' : host.seen.refused?.code ?? 'closed');
      host.ws.terminate();
    }
    return { results };
  },
};

const run = cases[kind];
if (!run) {
  process.stderr.write(`unknown case ${kind}\n`);
  process.exit(2);
}
run().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (err) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  },
);
