// Pieces every benchmark process shares: the backpressured bulk write of the target's source and
// the clients' upload, and the way a helper process announces the port it listens on.

/** A 64 KiB block of `fill`, the unit every bulk transfer writes. */
export function block(fill) {
  return Buffer.alloc(64 * 1024, fill);
}

/**
 * Writes `n` bytes to `socket` as repeats of `chunk` (the last one cut short), pausing whenever
 * write() returns false until 'drain'. Returns at once; the writes go on in the background.
 */
export function writeBytes(socket, n, chunk) {
  let left = n;
  const pump = () => {
    while (left > 0) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      if (!socket.write(piece)) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

/**
 * Listens on 127.0.0.1:0 and prints the port on stdout (how bench/procs.mjs learns it); a listen
 * error ends the process with `name` in the message. SIGTERM exits cleanly.
 */
export function serveAndAnnounce(server, name) {
  server.on('error', (err) => {
    process.stderr.write(`${name}: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${server.address().port}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}
