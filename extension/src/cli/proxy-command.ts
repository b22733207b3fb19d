import type { Readable, Writable } from 'node:stream';
import { assertTunnelName, createError, ErrorCode, WireCode, type ByteStream, type TetherError } from '@tether/shared';
import { bridge } from '../core/bridge.js';
import type { Connector } from '../core/connector.js';
import { describeStreamEnd } from '../core/stream-end.js';
import { clientConnector, clientTracing } from './client-connector.js';
import type { ClientValues, PoolValues } from './flags.js';
import { watchNpmLauncher } from './launcher-watch.js';
import { keepHeapFloor } from './heap-floor.js';
import { tuneMalloc } from './malloc-tuning.js';
import { widenPipes } from './pipe-capacity.js';

/** Signals that end a ProxyCommand: ssh sends SIGHUP when it is done with us. */
const ENDING_SIGNALS = ['SIGHUP', 'SIGTERM', 'SIGINT'] as const;

export interface ProxyIo {
  stdin: Readable;
  stdout: Writable;
}

/**
 * Carries stdin/stdout to a new stream to `tunnel`, the way ssh's ProxyCommand needs it.
 * Resolves with the exit status: 0 when the stream ended cleanly, or when ssh went away (its
 * SIGHUP, our stdout's reader gone, or the npx that launched us killed), which is the normal end
 * of a ProxyCommand and not worth a line on the terminal ssh leaves behind; 128+n for SIGTERM and
 * SIGINT. Rejects with a TetherError, worded for the user, when the stream could not be opened
 * or ended with an error from the far side. The stream is reset (never left for the far side
 * to time out) whichever way we stop.
 */
export function runProxy(connector: Connector, tunnel: string, io: ProxyIo = { stdin: process.stdin, stdout: process.stdout }): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let stream: ByteStream | undefined;
    let stopped: number | undefined;
    const cleanups: (() => void)[] = [];
    const done = (): void => {
      for (const cleanup of cleanups.splice(0)) cleanup();
    };
    const stop = (status: number, why: string): void => {
      if (stopped !== undefined) return;
      stopped = status;
      stream?.reset(WireCode.CANCELLED, why);
      done();
      resolve(status);
    };

    for (const signal of ENDING_SIGNALS) {
      const handler = (): void => stop(signal === 'SIGHUP' ? 0 : 128 + (signal === 'SIGTERM' ? 15 : 2), `tether proxy got ${signal}`);
      process.on(signal, handler);
      cleanups.push(() => process.off(signal, handler));
    }
    cleanups.push(watchNpmLauncher(() => stop(0, 'the npx that started tether proxy exited')));
    // The reader of our stdout (ssh) is gone: nothing we receive can be delivered any more.
    let readerGone = false;
    const onOutputError = (): void => {
      readerGone = true;
    };
    io.stdout.on('error', onOutputError);
    cleanups.push(() => io.stdout.off('error', onOutputError));

    connector.open(tunnel).then(
      async (opened) => {
        if (stopped !== undefined) {
          opened.reset(WireCode.CANCELLED, 'tether proxy stopped while the stream opened');
          return;
        }
        stream = opened;
        const err = await bridge(opened, io.stdin, io.stdout);
        if (stopped !== undefined) return;
        stopped = err && !readerGone ? 1 : 0;
        done();
        if (err && !readerGone) reject(streamEnded(tunnel, err));
        else resolve(0);
      },
      (err: TetherError) => {
        if (stopped !== undefined) return;
        stopped = 1;
        done();
        reject(err);
      },
    );
  });
}

/** The error a stream ended with, worded for the person whose ssh session just closed. */
function streamEnded(tunnel: string, err: TetherError): TetherError {
  if (err.code === ErrorCode.CANCELLED && /^local /.test(err.message)) return err;
  return createError(err.code, describeStreamEnd(tunnel, err));
}

/**
 * `tether proxy NAME`: stdin/stdout, for ssh's ProxyCommand. It starts once per ssh connection,
 * so it loads only what it uses (client-connector.ts).
 */
export async function proxyCommand(tunnel: string, values: ClientValues & PoolValues & { otlp?: string }): Promise<number> {
  assertTunnelName(tunnel);
  // Silent: what a ProxyCommand prints lands on the user's ssh session.
  const tracing = await clientTracing(values, false);
  const { connector } = clientConnector(values, undefined, tracing);
  // ssh's two pipes (our stdin and stdout) widened and the allocator tuned while the stream
  // opens; nothing waits for either.
  void widenPipes([0, 1]);
  void tuneMalloc();
  keepHeapFloor();
  try {
    return await runProxy(connector, tunnel);
  } finally {
    connector.close();
    // The open's span is sent, but a collector that does not answer holds ssh up for 1 s at most.
    if (tracing) await Promise.race([tracing.shutdown(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    // Nothing may keep a ProxyCommand alive once its stream is over (stdin still open, say).
    process.stdin.destroy();
    setTimeout(() => process.exit(), 2000).unref();
  }
}
