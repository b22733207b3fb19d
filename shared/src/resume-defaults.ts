/**
 * Defaults of resumable streams, in one place: the stream itself, the client's settings and
 * CLI help, and the manifest's `contributes.configuration` (checked by a test) read them here.
 */
export const ResumeDefaults = {
  /** Bytes written but not yet acknowledged by the far end that a stream keeps for a resume. */
  replayBufferBytes: 8 * 1024 * 1024,
  /**
   * Received bytes after which an ACK goes out at once: an eighth of the default replay buffer,
   * so a sender is not held back waiting for one, and a bulk transfer sends one per MiB.
   */
  ackBytes: 1024 * 1024,
  /**
   * Longest wait before received bytes are acknowledged once at least ACK_SOON_BYTES of them
   * wait: a sender with the smallest replay buffer may be about to stop for want of an ACK.
   */
  ackDelayMs: 10,
  /**
   * Longest wait before fewer than ACK_SOON_BYTES received bytes are acknowledged. Their sender
   * cannot be held back by them, and data going the other way carries the ACK sooner (an echo,
   * the next keystroke), so an interactive stream sends almost no ACK of its own.
   */
  lazyAckDelayMs: 250,
  /** How long a stream that lost its path waits to be resumed before it is reset. */
  resumeTimeoutMs: 30_000,
} as const;

/**
 * The smallest replay buffer a resumable stream may have (`replayBufferBytes`): the CLI and the
 * settings refuse less, and receivers count on it when they decide how soon to acknowledge.
 */
export const MIN_REPLAY_BUFFER_BYTES = 64 * 1024;

/**
 * Received bytes waiting for an ACK past which it leaves within `ackDelayMs` rather than
 * `lazyAckDelayMs`: half the smallest replay buffer. A sender stops only when its whole replay
 * buffer is unacknowledged; once that much has arrived, the receiver is past this mark and
 * acknowledges soon, so no sender waits on the lazy delay.
 */
export const ACK_SOON_BYTES = MIN_REPLAY_BUFFER_BYTES / 2;

/**
 * How long a host keeps a stream that lost its path waiting for the connector's resume: longer
 * than a connector tries (`resumeTimeoutMs`), since a relay that keeps a dead host link delays
 * the resume until it notices.
 */
export const HOST_RESUME_TIMEOUT_MS = 75_000;

/**
 * Longest wait for the far end to answer one resume or move attempt (its first ACK, or a
 * refusal) before the attempt is abandoned and another path may be tried: a backstop past the
 * relay's own open timeout, for a path that answers nothing at all.
 */
export const RESUME_ATTEMPT_TIMEOUT_MS = 12_000;
