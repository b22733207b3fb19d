/**
 * Agent requests from the far side (RFC 4254 session + OpenSSH's auth-agent@openssh.com channels)
 * proxied to the local agent, one request at a time, each with a timeout.
 *
 * ssh2's own forwarding pipes the channel straight into a socket: a hung agent then hangs the
 * remote `ssh-add` forever, and a dead one refuses the channel. Here every request that gets no
 * full reply in time, or meets a dead agent, is answered SSH_AGENT_FAILURE, and the next request
 * connects again: only the requests that need the agent fail, never the session.
 */
import net from 'node:net';
import { Duplex } from 'node:stream';
import { OpenSSHAgent } from 'ssh2';
import { createError, ErrorCode, type TetherError } from '@tether/shared';
import { AGENT_FAILURE_REPLY, AgentMessageReader, frameAgentMessage, socketProblem } from './agent-client.js';

/** Default time the local agent has to answer one request (a signature may wait for a touch or a confirmation). */
export const DEFAULT_AGENT_TIMEOUT_MS = 30_000;

export interface AgentProxyOptions {
  /** Unix socket or Windows named pipe of the local agent. */
  path: string;
  timeoutMs?: number;
  /** Told about every request that failed (timeout, dead agent), after the failure reply is sent. */
  onRequestFailed?: (err: TetherError) => void;
}

/**
 * One forwarded agent connection: agent messages written to it go to the local agent; replies (or
 * SSH_AGENT_FAILURE) come out of it in request order. Never emits 'error' (ssh2 pipes it without
 * an error listener): a broken request stream just ends it.
 */
export class AgentProxy extends Duplex {
  private readonly path: string;
  private readonly timeoutMs: number;
  private readonly onRequestFailed: (err: TetherError) => void;
  private readonly incoming = new AgentMessageReader();
  private readonly queue: Buffer[] = [];
  private busy = false;
  private local: net.Socket | undefined;
  private localReader = new AgentMessageReader();
  private pending: { resolve: (reply: Buffer) => void; reject: (err: TetherError) => void } | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Callbacks of writes or of end() waiting for the queue to drain (backpressure). */
  private waiting: (() => void)[] = [];
  private broken = false;

  constructor(options: AgentProxyOptions) {
    super();
    this.path = options.path;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_AGENT_TIMEOUT_MS;
    this.onRequestFailed = options.onRequestFailed ?? (() => undefined);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.broken) return callback();
    try {
      this.queue.push(...this.incoming.push(chunk));
    } catch {
      // Not the agent protocol: nothing sensible can be answered, so the channel ends.
      this.broken = true;
      this.queue.length = 0;
      this.push(null);
      this.dropLocal();
      return callback();
    }
    if (this.queue.length === 0 && !this.busy) return callback();
    this.waiting.push(() => callback());
    this.next();
  }

  override _final(callback: (error?: Error | null) => void): void {
    const finish = (): void => {
      if (!this.broken) this.push(null);
      this.dropLocal();
      callback();
    };
    if (this.queue.length === 0 && !this.busy) return finish();
    this.waiting.push(finish);
  }

  override _read(): void {
    // Replies are pushed as they arrive; a request is only sent once the previous reply is out.
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.broken = true;
    this.queue.length = 0;
    this.dropLocal();
    callback(error);
  }

  private next(): void {
    if (this.busy) return;
    const request = this.queue.shift();
    if (!request) {
      const waiting = this.waiting;
      this.waiting = [];
      for (const resume of waiting) resume();
      return;
    }
    this.busy = true;
    this.ask(request).then(
      (reply) => this.answer(frameAgentMessage(reply)),
      (err: TetherError) => {
        this.dropLocal();
        this.answer(AGENT_FAILURE_REPLY);
        this.onRequestFailed(err);
      },
    );
  }

  private answer(frame: Buffer): void {
    this.busy = false;
    if (this.destroyed || this.broken) return;
    this.push(frame);
    this.next();
  }

  /** Sends one request on the (possibly new) local connection; resolves with the reply payload. */
  private ask(request: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.timer = setTimeout(() => this.fail(createError(ErrorCode.TIMEOUT, `agent at ${this.path} did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      const socket = this.local ?? this.connectLocal();
      socket.write(frameAgentMessage(request));
    });
  }

  private connectLocal(): net.Socket {
    const socket = net.connect(this.path);
    this.local = socket;
    this.localReader = new AgentMessageReader();
    socket.on('data', (chunk: Buffer) => {
      if (socket !== this.local) return;
      let replies: Buffer[];
      try {
        replies = this.localReader.push(chunk);
      } catch (err) {
        return this.fail(err as TetherError);
      }
      // An agent answers only what was asked; anything beyond one reply is ignored.
      const [reply] = replies;
      if (!reply || !this.pending) return;
      const { resolve } = this.pending;
      this.settle();
      resolve(reply);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (socket === this.local) this.fail(createError(ErrorCode.NOT_FOUND, `cannot reach the agent at ${this.path}: ${socketProblem(err)}`));
    });
    socket.on('close', () => {
      if (socket === this.local) this.fail(createError(ErrorCode.CONNECTION_LOST, `agent at ${this.path} closed the connection`));
    });
    return socket;
  }

  private fail(err: TetherError): void {
    const pending = this.pending;
    this.settle();
    this.dropLocal();
    pending?.reject(err);
  }

  private settle(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private dropLocal(): void {
    const socket = this.local;
    this.local = undefined;
    socket?.destroy();
  }
}

/**
 * An ssh2 agent for both authentication and forwarding whose every connection is an AgentProxy:
 * ssh2's own getIdentities/sign and its forwarding path then get the timeout too.
 */
export class TimedAgent extends OpenSSHAgent {
  constructor(private readonly proxyOptions: AgentProxyOptions) {
    super(proxyOptions.path);
  }

  override getStream(cb: (err: Error | undefined, stream?: Duplex) => void): void {
    cb(undefined, new AgentProxy(this.proxyOptions));
  }
}
