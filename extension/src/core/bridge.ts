import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { WireCode, type ByteStream, type TetherError } from '@tether/shared';

/**
 * Ends `s` as an abort: a reset for a connected TCP socket (its peer sees RST, not a clean end),
 * destroy() for anything else. Only TCP handles can be reset: stdin or stdout on a pipe, or a
 * Unix socket, throw ERR_INVALID_HANDLE_TYPE. The process's own stdout and stderr are left
 * open (the caller may still have a line to write).
 */
function abort(s: Readable | Writable): void {
  if (s === process.stdout || s === process.stderr) return;
  const socket = s as Partial<Socket> & { destroy(): void };
  // Not after end(): libuv refuses a reset once a shutdown is queued (EINVAL), and Node then
  // leaks the handle, which spins the event loop at 100% CPU. A TCP socket has a remote
  // address; a pipe or Unix socket has none.
  const resettable = s instanceof Socket && socket.connecting === false && socket.remoteAddress !== undefined && !socket.writableEnded;
  if (resettable) {
    try {
      socket.resetAndDestroy?.();
      return;
    } catch {
      // A handle type that cannot be reset after all: destroy it below.
    }
  }
  socket.destroy();
}

/**
 * Joins a stream to a byte source and sink (a TCP socket twice, or stdin and stdout) with
 * backpressure both ways and half-close: the source pauses while the stream has no credit, and
 * credit goes back to the peer only once the sink has taken the bytes. Resolves when both
 * directions are finished, with the error that ended the stream if it did not end cleanly.
 */
export function bridge(stream: ByteStream, input: Readable, output: Writable): Promise<TetherError | undefined> {
  return new Promise((resolve) => {
    let pendingCredit = 0;
    let done = false;

    const finish = (err: TetherError | undefined): void => {
      if (done) return;
      done = true;
      input.off('data', onInputData);
      resolve(err);
    };

    const onInputData = (chunk: Buffer): void => {
      if (stream.state === 'closed') return;
      if (!stream.write(chunk)) input.pause();
    };
    input.on('data', onInputData);
    let inputEnded = false;
    let outputEnded = false;
    input.once('end', () => {
      inputEnded = true;
      stream.end();
    });
    input.once('error', (err) => stream.reset(WireCode.CANCELLED, `local side failed: ${err.message}`));
    stream.on('drain', () => input.resume());

    stream.on('data', (chunk) => {
      if (output.write(chunk)) stream.consume(chunk.length);
      else pendingCredit += chunk.length;
    });
    output.on('drain', () => {
      const n = pendingCredit;
      pendingCredit = 0;
      stream.consume(n);
    });
    output.once('error', (err) => stream.reset(WireCode.CANCELLED, `local side failed: ${err.message}`));
    stream.once('end', () => {
      outputEnded = true;
      output.end();
    });

    const onStreamClose = (err: TetherError | undefined): void => {
      if (err) {
        // Propagate an abort as an abort: a TCP peer sees a reset, not a clean end of data.
        for (const s of new Set<Readable | Writable>([input, output])) abort(s);
        finish(err);
        return;
      }
      if (output.writableFinished) finish(undefined);
      else {
        // Destroyed before it flushed (the local reader went away): done all the same.
        output.once('finish', () => finish(undefined));
        output.once('close', () => finish(undefined));
      }
    };
    stream.once('close', onStreamClose);
    // Reset before we got here (between the open and this call): its 'close' has been and gone.
    if (stream.state === 'closed') onStreamClose(stream.error);

    // The local side vanished before the stream finished (socket destroyed, pipe closed).
    // After a graceful end both ways the stream may still be sending queued bytes: leave it be.
    // A socket is both directions at once; separate stdin and stdout each close once their own
    // direction is done (stdin closes right after EOF while the answer may still be coming).
    const onLocalClose = (finished: () => boolean) => (): void => {
      if (stream.state !== 'closed' && !finished()) stream.reset(WireCode.CANCELLED, 'local connection closed');
    };
    if (output === (input as unknown)) input.once('close', onLocalClose(() => inputEnded && outputEnded));
    else {
      input.once('close', onLocalClose(() => inputEnded));
      output.once('close', onLocalClose(() => outputEnded));
    }
  });
}
