// The target service of the benchmark, run as its own process. It listens on 127.0.0.1:0, prints
// its port on stdout, and serves each connection by the first byte the client sends:
//   'S' + uint64 N  sink: read N bytes, then answer one byte 'K' (end-to-end delivery, no half-close)
//   'P' + uint64 N  sink with progress: as 'S', and one byte 'k' per 64 KiB read before the 'K' (how
//                   the driver sees each of many concurrent uploads advance)
//   'R' + uint64 N  source: send N bytes
//   'E'             echo everything that follows
//   'H'             hello: answer 'H', then read the connection's request as if it came first (the
//                   driver learns that a stream through the tunnel is open end to end)
//   nothing         hold the connection open, idle (the memory benchmark's streams)
// The same protocol is spoken directly, through the tunnel and through websockify, so every
// path does the same work at the ends.
import net from 'node:net';
import { block, serveAndAnnounce, writeBytes } from './io.mjs';

const CHUNK = block(0x61);
const HEADER = 9;
const PROGRESS_UNIT = 64 * 1024;

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => socket.destroy());
  let head = Buffer.alloc(0);
  let mode = '';
  let left = 0;
  let total = 0;
  let acked = 0;

  const onData = (chunk) => {
    if (mode === 'S') {
      left -= chunk.length;
      if (left <= 0) {
        mode = 'done';
        socket.write('K');
      }
      return;
    }
    if (mode === 'P') {
      left -= chunk.length;
      const due = Math.floor(Math.min(total - left, total) / PROGRESS_UNIT) - acked;
      acked += due;
      const reply = 'k'.repeat(due) + (left <= 0 ? 'K' : '');
      if (reply) socket.write(reply);
      if (left <= 0) mode = 'done';
      return;
    }
    if (mode === 'E') {
      socket.write(chunk);
      return;
    }
    if (mode !== '') return;
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    while (head[0] === 0x48) {
      socket.write('H');
      head = head.subarray(1);
    }
    if (head.length === 0) return;
    const kind = String.fromCharCode(head[0]);
    if (kind === 'E') {
      mode = 'E';
      if (head.length > 1) socket.write(head.subarray(1));
      return;
    }
    if (head.length < HEADER) return;
    const n = Number(head.readBigUInt64BE(1));
    const rest = head.subarray(HEADER);
    if (kind === 'S' || kind === 'P') {
      mode = kind;
      left = n;
      total = n;
      if (rest.length > 0 || left === 0) onData(rest);
    } else if (kind === 'R') {
      mode = 'R';
      writeBytes(socket, n, CHUNK);
    } else {
      socket.destroy();
    }
  };
  socket.on('data', onData);
  socket.on('end', () => socket.end());
});

serveAndAnnounce(server, 'target');
