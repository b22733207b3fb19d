import net from 'node:net';
import { WebSocket } from 'ws';
import { MuxDuplex, MuxSession, SUBPROTOCOL, tunnelSettingsQuery, WireCode, type TunnelSettings } from '@tether/shared';

export interface MuxHost {
  session: MuxSession;
  close(): void;
}

/**
 * A small real host for relay tests: registers `tunnel` over a WebSocket and connects each stream
 * it is given to `target` on 127.0.0.1 (refusing it with TARGET_REFUSED when nothing listens),
 * as `tether share` does without its pool and resume.
 */
export async function startMuxHost(wsUrl: string, token: string, tunnel: string, target: number, settings: TunnelSettings = {}): Promise<MuxHost> {
  const query = tunnelSettingsQuery(settings);
  query.set('tunnel', tunnel);
  const ws = new WebSocket(`${wsUrl}/v1/host?${query.toString()}`, [SUBPROTOCOL], { headers: { authorization: `Bearer ${token}` } });
  ws.on('error', () => undefined);
  const session = new MuxSession({ role: 'client', send: (m) => (ws.send(m), ws.bufferedAmount < 4 * 1024 * 1024) });
  ws.on('message', (data: Buffer) => session.receive(data));
  ws.on('close', () => session.destroy());
  session.on('stream', (stream) => {
    const socket = net.connect(target, '127.0.0.1');
    socket.once('connect', () => {
      stream.accept();
      const duplex = new MuxDuplex(stream);
      duplex.on('error', () => socket.destroy());
      socket.on('error', () => duplex.destroy());
      duplex.pipe(socket).pipe(duplex);
    });
    socket.once('error', () => {
      if (stream.state === 'pending') stream.reject(WireCode.TARGET_REFUSED, `nothing listens on 127.0.0.1:${target}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`host upgrade refused: ${res.statusCode}`)));
  });
  return { session, close: () => ws.close() };
}
