/** WebSocket subprotocol naming protocol version 1. A relay refuses any other at the handshake. */
export const SUBPROTOCOL = 'tether.v1';
export const SUPPORTED_SUBPROTOCOLS: readonly string[] = [SUBPROTOCOL];

/**
 * Response header of the WebSocket upgrade naming the relay's largest frame payload. Clients
 * frame their data to fit and accept frames up to it, so a relay configured with other limits
 * than the defaults still works with every client.
 */
export const MAX_FRAME_SIZE_HEADER = 'tether-max-frame-size';

/**
 * Response header of the WebSocket upgrade naming the relay's per-stream buffer limit
 * (maxBufferedBytesPerStream): the most credit it lets a stream's receiver grant. Clients keep
 * their receive windows (initial and auto-tuned) within it, so a relay configured below the
 * default window still carries bulk streams instead of resetting them.
 */
export const MAX_WINDOW_HEADER = 'tether-max-window';

/** Response header of a relay's WebSocket upgrade: the id of the relay node that took the link (a cluster's nodes each have one). */
export const NODE_HEADER = 'tether-node';
/** The most any relay may set maxFrameSize to, and so what clients must be ready to receive. */
export const MAX_FRAME_SIZE_CEILING = 16 * 1024 * 1024;

/** Defaults shared by the relay and the clients; every one of them is an option. */
export const Defaults = {
  /** Largest payload of one frame. */
  maxFrameSize: 256 * 1024,
  /** Largest WebSocket message (it may batch several frames). */
  maxMessageSize: 1024 * 1024 + 64 * 1024,
  /** Initial per-stream receive window. */
  initialWindow: 1024 * 1024,
  /** Cap for the auto-tuned per-stream window; also the relay's per-stream buffer limit. */
  maxWindow: 16 * 1024 * 1024,
  /** Concurrent streams on one connection. */
  maxStreamsPerConnection: 16_384,
  /** Bytes the relay may hold queued towards one connection before it pauses the senders. */
  maxBufferedBytesPerConnection: 64 * 1024 * 1024,
  /** Bytes a stream queues locally before write() asks the caller to wait for 'drain'. */
  streamHighWaterMark: 256 * 1024,
  /** Time for a WebSocket handshake (HTTP upgrade) to complete. */
  handshakeTimeoutMs: 10_000,
  /** Time for a host to answer a stream OPEN. */
  openTimeoutMs: 10_000,
  /** Interval between PINGs on an idle connection. */
  pingIntervalMs: 15_000,
  /** A connection with no frame for this long is considered dead. */
  idleTimeoutMs: 45_000,
  /** Time a relay waits for streams to finish after GOAWAY before closing them. */
  drainTimeoutMs: 30_000,
} as const;

/** UDP flows' defaults (docs/udp.md), shared by the relay, `tether connect --udp` and `tether share --udp`. */
export const UdpDefaults = {
  /** The largest UDP payload over IPv4: the largest datagram carried. */
  maxDatagramSize: 65_507,
  /** A flow with no datagram either way for this long ends (on the connector and on the host). */
  idleTimeoutMs: 60_000,
  /** Flows (client addresses) one `tether connect --udp` listener carries at once; datagrams of more are dropped. */
  maxFlowsPerListener: 1024,
  /** Flows one UDP tunnel may have through one relay node. */
  maxFlowsPerTunnel: 1024,
  /** Datagrams of a new flow held until its stream is accepted; more are dropped. */
  maxQueuedPerFlow: 64,
  /** Sends waiting on a local UDP socket before more are dropped (a socket that cannot keep up). */
  maxSendQueue: 256,
  /**
   * Receive and send buffer asked of the kernel for each UDP socket (Linux caps it at
   * net.core.rmem_max / wmem_max): a burst waits there instead of being dropped while the
   * program is busy. The default 208 KiB holds fewer than 200 full-size QUIC packets.
   */
  socketBufferBytes: 4 * 1024 * 1024,
  /** After a flow's open fails, its client's datagrams are dropped this long before another open is tried. */
  retryAfterFailMs: 1000,
} as const;
