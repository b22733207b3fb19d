import type { WebSocket } from 'ws';
import type { LinkTransport, LinkTransportHandlers } from './link-transport.js';

/** A server-side `ws` socket as a link transport. */
export class WsTransport implements LinkTransport {
  private readonly ws: WebSocket;

  constructor(ws: WebSocket) {
    this.ws = ws;
  }

  start(handlers: LinkTransportHandlers): void {
    this.ws.on('message', (data, isBinary) => handlers.message(data as Buffer, isBinary));
    this.ws.on('close', (code, reason) => handlers.close(code, reason.toString()));
    this.ws.on('error', (err) => handlers.error(err));
  }

  send(message: Buffer, done: () => void): void {
    this.ws.send(message, { binary: true }, () => done());
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }
}
