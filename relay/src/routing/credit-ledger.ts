import type { Link } from './link.js';
import type { RouteEnd } from './route.js';

/**
 * Per-link credit accounting. Each stream's receiver grants its sender credit (flow control);
 * the relay passes grants on as they come, except towards a link that is congested (it holds
 * more than its limit: its peer is not reading): grants for streams sending to it are held back
 * and passed on, as WINDOW frames of the relay's own, once it has drained. A link that stops
 * reading so gets no more data than the credit its senders already held, and stalls only the
 * streams that send to it, never its senders' other streams.
 */
export class CreditLedger {
  /**
   * Gives `end` (a sender towards `end.peer.link`) `increment` bytes of credit and returns what
   * it got now: all of it, or, towards a congested link, `floor` (a new stream's first window
   * must be positive) with the rest held back.
   */
  grant(end: RouteEnd, increment: number, floor = 0): number {
    const target = end.peer.link;
    const granted = target.congestedSince === undefined ? increment : Math.min(increment, floor);
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
   * Hands out all held-back credit of the open streams sending towards `link` (call when it has
   * drained). Returns each sender and the increment to tell it (as a WINDOW frame).
   */
  release(link: Link): [RouteEnd, number][] {
    const grants: [RouteEnd, number][] = [];
    if (link.withheldTotal === 0 || link.congestedSince !== undefined) return grants;
    for (const here of link.streams.values()) {
      const sender = here.peer;
      if (sender.withheld === 0 || !sender.open) continue;
      const amount = sender.withheld;
      sender.withheld = 0;
      link.withheldTotal -= amount;
      sender.credit += amount;
      link.creditIn += amount;
      grants.push([sender, amount]);
    }
    return grants;
  }
}
