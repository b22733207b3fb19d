/** What a transport reports to the router that owns it. */
export interface LinkTransportHandlers {
  /** One message as it arrived (tether.v1 frames when binary). */
  message(data: Buffer, isBinary: boolean): void;
  /** The transport is closed, for whatever reason; called once. */
  close(code: number, reason: string): void;
  error(err: Error): void;
}

/**
 * The narrow interface a route end needs from whatever carries its frames: a WebSocket to a host
 * or connector, a link to a peer relay node, or an in-process endpoint (an HTTP ingress). The
 * router counts the bytes it queues itself, from send() to `done`, and pauses sources with it.
 */
export interface LinkTransport {
  /** Takes the handlers; called once, before anything else. */
  start(handlers: LinkTransportHandlers): void;
  /** Queues one message; `done` runs once it is written out or the transport has failed. */
  send(message: Buffer, done: () => void): void;
  /**
   * Optional: holds writes back until uncork(), so the messages of one batch leave in one write
   * (a system call and a wake-up of the peer each). Returns false when the transport cannot.
   */
  cork?(): boolean;
  uncork?(): void;
  /** Stops delivering messages until resume(). */
  pause(): void;
  resume(): void;
  /** Closes gracefully with a close code and a short reason (at most 123 bytes). */
  close(code: number, reason: string): void;
  /** Drops the connection at once. */
  terminate(): void;
}
