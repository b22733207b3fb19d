/**
 * Frame layout (all integers big-endian). One WebSocket binary message carries one or more
 * whole frames; a frame never spans two messages.
 *
 *   offset 0  u8   type
 *   offset 1  u8   flags
 *   offset 2  u32  stream id (0 for connection frames: PING, PONG, GOAWAY)
 *   offset 6  u32  payload length
 *   offset 10      payload
 */
export const HEADER_SIZE = 10;

export const FrameType = {
  DATA: 0,
  OPEN: 1,
  OPEN_OK: 2,
  OPEN_ERR: 3,
  WINDOW: 4,
  RESET: 5,
  PING: 6,
  PONG: 7,
  GOAWAY: 8,
  DATAGRAM: 9,
  /**
   * End-to-end stream control of resumable streams: the sender has received `offset` bytes of
   * the stream (plus one for its end, TCP-style); with FLAG_FIN, the sender's own data ends
   * after the DATA frames it sent before this one. Relays forward it without reading it.
   */
  ACK: 10,
} as const;
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

export const FrameTypeName: Record<number, string> = Object.fromEntries(
  Object.entries(FrameType).map(([k, v]) => [v, k]),
);

/** DATA flag: the sender will send no more data on this stream (half-close). ACK flag: the sender's resumable stream ends. */
export const FLAG_FIN = 0x01;

/** Largest UTF-8 message accepted in OPEN_ERR, RESET and GOAWAY frames. */
export const MAX_REASON_BYTES = 1024;
/** Largest opaque metadata accepted after the tunnel name in OPEN. */
export const MAX_OPEN_METADATA_BYTES = 4096;

export type Frame =
  | { type: typeof FrameType.DATA; streamId: number; fin: boolean; payload: Buffer }
  | { type: typeof FrameType.OPEN; streamId: number; window: number; tunnel: string; metadata: Buffer }
  | { type: typeof FrameType.OPEN_OK; streamId: number; window: number }
  | { type: typeof FrameType.OPEN_ERR; streamId: number; code: number; message: string }
  | { type: typeof FrameType.WINDOW; streamId: number; increment: number }
  | { type: typeof FrameType.RESET; streamId: number; code: number; message: string }
  | { type: typeof FrameType.PING; streamId: 0; data: Buffer }
  | { type: typeof FrameType.PONG; streamId: 0; data: Buffer }
  | { type: typeof FrameType.GOAWAY; streamId: 0; lastStreamId: number; code: number; message: string }
  | { type: typeof FrameType.DATAGRAM; streamId: number; payload: Buffer }
  | { type: typeof FrameType.ACK; streamId: number; fin: boolean; offset: number };
