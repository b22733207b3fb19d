// The open storm of `npm run bench:overload`, its own process: a host link that accepts and
// at once ends every stream of its tunnel, and SESSIONS connector links that each keep
// CONCURRENCY opens to that tunnel under way, opening again the moment one is answered (a
// hostile client: no backoff, whatever the relay says). Every second it prints one JSON line
// of counts: {"ok":N,"refused":{"CODE":N},"failed":N}.
// It dials from 127.0.0.2: another address than the measured client's 127.0.0.1, as a hostile
// client elsewhere would (per-address limits would otherwise count both as one).
// argv: URL TOKEN TUNNEL SESSIONS CONCURRENCY
import { dial, openStream } from './cluster-clients.mjs';

const [url, token, tunnel, sessions, concurrency] = process.argv.slice(2);
const counts = { ok: 0, refused: {}, failed: 0 };

const FROM = '127.0.0.2';
const host = await dial(url, `/v1/host?tunnel=${encodeURIComponent(tunnel)}`, token, FROM);
host.session.on('stream', (stream) => {
  stream.on('error', () => undefined);
  stream.on('data', (chunk) => stream.consume(chunk.length));
  stream.accept();
  stream.end();
});

async function opener(session) {
  for (;;) {
    try {
      const { stream } = await openStream(session, tunnel);
      counts.ok++;
      stream.on('error', () => undefined);
      stream.on('data', (chunk) => stream.consume(chunk.length));
      stream.end();
    } catch (err) {
      const code = /refused: (\S+)/.exec(err.message)?.[1] || 'other';
      counts.refused[code] = (counts.refused[code] ?? 0) + 1;
      // A refusal comes back at once: yield so the loop does not starve the event loop.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

for (let s = 0; s < Number(sessions); s++) {
  const link = await dial(url, '/v1/connect', token, FROM);
  link.closed.then(() => counts.failed++);
  for (let c = 0; c < Number(concurrency); c++) opener(link.session).catch(() => counts.failed++);
}
setInterval(() => process.stdout.write(`${JSON.stringify(counts)}\n`), 1000);
