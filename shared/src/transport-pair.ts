import { MuxSession, type SessionOptions } from './session.js';

export interface SessionPairOptions {
  a?: Partial<Omit<SessionOptions, 'send' | 'role'>>;
  b?: Partial<Omit<SessionOptions, 'send' | 'role'>>;
  /** Bytes in flight on one direction before send() reports congestion. */
  highWaterMark?: number;
}

/**
 * Two sessions joined by an in-memory transport that delivers asynchronously and reports
 * congestion like a socket would. Used to run the same tests with and without real WebSockets.
 */
export function createSessionPair(options: SessionPairOptions = {}): { a: MuxSession; b: MuxSession } {
  const hwm = options.highWaterMark ?? 1024 * 1024;
  let inflightAB = 0;
  let inflightBA = 0;
  const deliver = (to: () => MuxSession, from: () => MuxSession, dir: 'ab' | 'ba') => (message: Buffer): boolean => {
    if (dir === 'ab') inflightAB += message.length;
    else inflightBA += message.length;
    setImmediate(() => {
      if (dir === 'ab') inflightAB -= message.length;
      else inflightBA -= message.length;
      to().receive(message);
      const inflight = dir === 'ab' ? inflightAB : inflightBA;
      if (inflight < hwm / 2) from().transportDrained();
    });
    return (dir === 'ab' ? inflightAB : inflightBA) < hwm;
  };
  const a: MuxSession = new MuxSession({ ...options.a, role: 'client', send: deliver(() => b, () => a, 'ab') });
  const b: MuxSession = new MuxSession({ ...options.b, role: 'server', send: deliver(() => a, () => b, 'ba') });
  a.on('close', (err) => b.destroy(err));
  b.on('close', (err) => a.destroy(err));
  return { a, b };
}
