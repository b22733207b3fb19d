/**
 * Where a SIEM forwarder's batches go. `send` resolves once the whole batch is written as far as
 * the transport can tell (TCP/TLS: every socket write callback ran; HEC: a 2xx answer), rejects
 * otherwise, and never throws into the relay. Retries and backoff are the forwarder's.
 */
export interface SiemTransport {
  send(messages: readonly Buffer[]): Promise<void>;
  /** Whether the last connection or request succeeded. */
  readonly connected: boolean;
  /** Which connection the last send went on (counts up at each new one): a change means one was lost. */
  readonly connection: number;
  /** Why the connection was lost, when it was. */
  readonly lastError?: string;
  close(): void;
}
