import type { WebSocket } from 'ws';
import type { LinkTransport, LinkTransportHandlers } from './link-transport.js';

/** What a link's writes can be held back with until the end of a batch (a net.Socket). */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/** A `ws` socket (either side) as a link transport. */
export class WsTransport implements LinkTransport {
  private readonly ws: WebSocket;
  private readonly socket: Corkable | undefined;

  /** `socket`: the connection `ws` writes to; with it, the messages of one batch leave in one write. */
  constructor(ws: WebSocket, socket?: Corkable) {
    this.ws = ws;
    this.socket = socket;
  }

  cork(): boolean {
    this.socket?.cork();
    return this.socket !== undefined;
  }

  uncork(): void {
    this.socket?.uncork();
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
