// The SSH users of bench/normal-load.mjs, in the driver process: interactive sessions typing
// one byte at a time into a remote `cat` and timing its echo, and one rate-limited bulk upload,
// all with the ssh2 client (npm) against a real sshd, here through `tether connect --listen`.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';

const { Client } = ssh2;

/** An ssh2 connection as root with `key`, resolved once authenticated. */
async function connect(port, key) {
  const client = new Client();
  const ready = once(client, 'ready');
  client.once('handshake', (negotiated) => (client.cipher = negotiated.cs.cipher));
  client.on('error', () => undefined);
  client.connect({ host: '127.0.0.1', port, username: 'root', privateKey: key, readyTimeout: 60_000 });
  await ready;
  return client;
}

function exec(client, command) {
  return new Promise((resolve, reject) => client.exec(command, (err, stream) => (err ? reject(err) : resolve(stream))));
}

/**
 * `count` SSH sessions to 127.0.0.1:port, each running `cat` (exec, no pty), opened `batch` at a
 * time. start() makes each send one byte every `intervalMs` ± `jitterMs` (uniform) and time its
 * echo; echo times are kept while `recording`. stop() ends every session.
 */
export async function interactiveSessions({ port, keyFile, count, batch = 10, intervalMs = 100, jitterMs = 30 }) {
  const key = readFileSync(keyFile);
  const sessions = [];
  for (let i = 0; i < count; i += batch) {
    const opened = await Promise.all(Array.from({ length: Math.min(batch, count - i) }, async () => {
      const client = await connect(port, key);
      const stream = await exec(client, 'cat');
      return { client, stream, pending: [], timer: undefined };
    }));
    sessions.push(...opened);
  }
  const state = { recording: false, latencies: [], sent: 0, echoed: 0, stopped: false };
  for (const s of sessions) {
    s.stream.on('data', (chunk) => {
      const now = performance.now();
      for (let k = 0; k < chunk.length; k++) {
        const sentAt = s.pending.shift();
        if (sentAt === undefined) continue;
        if (sentAt.recorded) {
          state.echoed++;
          state.latencies.push(now - sentAt.at);
        }
      }
    });
    s.stream.stderr.on('data', () => undefined);
  }
  const type = (s) => {
    if (state.stopped) return;
    s.pending.push({ at: performance.now(), recorded: state.recording });
    if (state.recording) state.sent++;
    s.stream.write('x');
    s.timer = setTimeout(() => type(s), intervalMs + (Math.random() * 2 - 1) * jitterMs);
  };
  return {
    state,
    start() {
      // Spread the first keystrokes over one interval, as people who did not start together.
      for (const s of sessions) s.timer = setTimeout(() => type(s), Math.random() * intervalMs);
    },
    /** Echoes still awaited (a keystroke sent while recording and not echoed yet). */
    outstanding: () => sessions.reduce((n, s) => n + s.pending.filter((p) => p.recorded).length, 0),
    async stop() {
      state.stopped = true;
      for (const s of sessions) {
        clearTimeout(s.timer);
        s.client.end();
      }
    },
  };
}

/**
 * One SSH session to 127.0.0.1:port running `wc -c`, fed zeros at `rate` bytes/s (a token bucket
 * topped up every 10 ms, at most 100 ms of credit, writes paused while ssh2 buffers). written()
 * is the bytes handed to the session so far, blockedMs() the time writes waited for 'drain'; stop() ends the input and resolves with the count
 * `wc -c` printed, the bytes sshd delivered to it.
 */
export async function bulkUpload({ port, keyFile, rate }) {
  const client = await connect(port, readFileSync(keyFile));
  const stream = await exec(client, 'wc -c');
  let output = '';
  stream.on('data', (d) => (output += d));
  stream.stderr.on('data', () => undefined);
  const chunk = Buffer.alloc(16 * 1024);
  let written = 0;
  let credit = 0;
  let blocked = false;
  let blockedMs = 0;
  let last = performance.now();
  const tick = () => {
    const now = performance.now();
    credit = Math.min(credit + (rate * (now - last)) / 1000, (rate * 100) / 1000);
    last = now;
    while (!blocked && credit >= chunk.length) {
      credit -= chunk.length;
      written += chunk.length;
      if (!stream.write(chunk)) {
        blocked = true;
        const since = performance.now();
        stream.once('drain', () => {
          blocked = false;
          blockedMs += performance.now() - since;
        });
      }
    }
  };
  const timer = setInterval(tick, 10);
  return {
    written: () => written,
    /** The cipher ssh2 and sshd agreed on (client to server). */
    cipher: client.cipher,
    /** Time spent waiting for ssh2 to drain (the path pushing back), in ms so far. */
    blockedMs: () => blockedMs,
    async stop() {
      clearInterval(timer);
      const closed = once(stream, 'close');
      stream.end();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
      client.end();
      return Number(output.trim());
    },
  };
}
