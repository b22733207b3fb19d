/** One refusal as the admin's Rate limits page lists it. */
export interface RecentRefusal {
  /** ISO 8601 time. */
  at: string;
  /** The rule that refused (`opens.perTunnel`, …). */
  rule: string;
  /** Whose bucket it was (`open:tunnel:web`, `api:addr:10.0.0.7`, …). */
  key: string;
}

const RECENT = 50;

/**
 * The refusals this node's rate limits made since it started, by rule, and the latest few: what
 * "current refusals" means on the admin dashboard. In process and small (a counter per rule and
 * a ring of RECENT entries); the cluster-wide totals are the Prometheus counter's.
 */
export class RefusalTally {
  private readonly byRule = new Map<string, { count: number; lastAt: number }>();
  private readonly recent: RecentRefusal[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  refused(rule: string, key: string): void {
    const at = this.now();
    const entry = this.byRule.get(rule) ?? { count: 0, lastAt: at };
    entry.count++;
    entry.lastAt = at;
    this.byRule.set(rule, entry);
    this.recent.push({ at: new Date(at).toISOString(), rule, key });
    if (this.recent.length > RECENT) this.recent.shift();
  }

  /** Counts by rule (most first), and the latest refusals (newest first). */
  snapshot(): { byRule: { rule: string; count: number; lastAt: string }[]; recent: RecentRefusal[] } {
    const byRule = [...this.byRule].map(([rule, e]) => ({ rule, count: e.count, lastAt: new Date(e.lastAt).toISOString() })).sort((a, b) => b.count - a.count || a.rule.localeCompare(b.rule));
    return { byRule, recent: [...this.recent].reverse() };
  }
}
