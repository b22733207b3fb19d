import type { Link } from './link.js';
import type { RouteEnd } from './route.js';

/**
 * Per-link credit accounting. Each stream's receiver grants its sender credit (flow control);
 * the relay passes grants on, but never lets the credit outstanding towards one link exceed
 * `cap`: the rest is held back and passed on as that link drains. So what the relay may have to
 * buffer for a link is bounded by `cap` whatever its streams' windows, and a link that stops
 * reading stalls only the streams that send to it, never its senders' other streams.
 */
export class CreditLedger {
  private readonly cap: number;
  /** Smallest hold-back worth a WINDOW of its own when released (unless it is all that is left). */
  private readonly releaseMin: number;

  constructor(cap: number, releaseMin = 64 * 1024) {
    this.cap = cap;
    this.releaseMin = releaseMin;
  }

  /**
   * Gives `end` (a sender towards `end.peer.link`) `increment` bytes of credit, or what fits;
   * returns what it got. `floor`: at least this much whatever the link holds (a new stream's
   * first window must let it start; streams per link are bounded, so these floors are too).
   */
  grant(end: RouteEnd, increment: number, floor = 0): number {
    const target = end.peer.link;
    const granted = Math.min(increment, Math.max(floor, this.cap - target.creditIn));
    end.credit += granted;
    target.creditIn += granted;
    const held = increment - granted;
    if (held > 0) {
      end.withheld += held;
      target.withheldTotal += held;
    }
    return granted;
  }

  /** `end` sent `bytes` towards its peer's link. */
  consume(end: RouteEnd, bytes: number): void {
    end.credit -= bytes;
    end.peer.link.creditIn -= bytes;
  }

  /** The stream is gone: its credit and hold-back no longer count against the link it sent to. */
  forget(end: RouteEnd): void {
    const target = end.peer.link;
    target.creditIn -= end.credit;
    target.withheldTotal -= end.withheld;
    end.credit = 0;
    end.withheld = 0;
  }

  /**
   * Hands out held-back credit of the streams sending towards `link` as far as it fits now.
   * Returns each sender and the increment to tell it (as a WINDOW frame); only open streams.
   */
  release(link: Link): [RouteEnd, number][] {
    const grants: [RouteEnd, number][] = [];
    let room = this.cap - link.creditIn;
    if (room < Math.min(link.withheldTotal, this.releaseMin)) return grants;
    for (const here of link.streams.values()) {
      const sender = here.peer;
      if (sender.withheld === 0 || !sender.open) continue;
      const amount = Math.min(sender.withheld, room);
      if (amount <= 0) break;
      sender.withheld -= amount;
      link.withheldTotal -= amount;
      sender.credit += amount;
      link.creditIn += amount;
      room -= amount;
      grants.push([sender, amount]);
    }
    return grants;
  }
}
