/**
 * Receive-side credit for one stream, with window auto-tuning.
 *
 * The peer may send up to `limit` bytes in total. When the application has consumed a quarter
 * of the window, the limit moves forward and the increment goes out in a WINDOW frame. If a
 * whole window is being consumed in much less than a few round trips, the link could carry more
 * than the window allows (bandwidth-delay product), so the window doubles, up to `maxWindow`
 * (the same rule as QUIC's flow-control auto-tuning).
 */
export class ReceiveWindow {
  /** Current window size in bytes. */
  size: number;
  private readonly maxWindow: number;
  /** Total bytes the peer may have sent. */
  private limit: number;
  private received = 0;
  private consumed = 0;
  private epochStart: number;
  private epochConsumed = 0;

  constructor(initial: number, maxWindow: number, now: number) {
    this.size = initial;
    this.maxWindow = Math.max(initial, maxWindow);
    this.limit = initial;
    this.epochStart = now;
  }

  /** Records `n` received bytes; false when that exceeds the credit the peer was given. */
  onReceive(n: number): boolean {
    this.received += n;
    return this.received <= this.limit;
  }

  /** Bytes received but not yet consumed by the application. */
  get buffered(): number {
    return this.received - this.consumed;
  }

  /**
   * Records `n` consumed bytes. Returns the WINDOW increment to send now (0 for none).
   * `rttMs` is the current round-trip estimate (0 when unknown).
   */
  onConsume(n: number, now: number, rttMs: number): number {
    this.consumed = Math.min(this.consumed + n, this.received);
    const unannounced = this.consumed - (this.limit - this.size);
    if (unannounced < this.size / 4) return 0;
    this.autoTune(now, rttMs);
    const newLimit = this.consumed + this.size;
    const increment = newLimit - this.limit;
    this.limit = newLimit;
    return increment;
  }

  private autoTune(now: number, rttMs: number): void {
    const fraction = (this.consumed - this.epochConsumed) / this.size;
    if (rttMs > 0 && this.size < this.maxWindow && now - this.epochStart < 4 * fraction * rttMs) {
      this.size = Math.min(this.size * 2, this.maxWindow);
    }
    this.epochStart = now;
    this.epochConsumed = this.consumed;
  }
}
