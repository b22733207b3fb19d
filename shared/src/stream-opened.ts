import { createError, ErrorCode, type TetherError } from './errors.js';
import type { ByteStream } from './byte-stream.js';

/** Resolves with `stream` once the far end accepted it; rejects with the coded error that closed it first. */
export function streamOpened<T extends ByteStream>(stream: T): Promise<T> {
  return new Promise((resolve, reject) => {
    const onClose = (err: TetherError | undefined): void => {
      stream.off('open', onOpen);
      reject(err ?? createError(ErrorCode.STREAM_CLOSED, 'stream closed before it opened'));
    };
    const onOpen = (): void => {
      stream.off('close', onClose);
      resolve(stream);
    };
    stream.once('open', onOpen);
    stream.once('close', onClose);
  });
}
