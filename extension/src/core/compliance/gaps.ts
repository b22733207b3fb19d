import type { Evidence } from './evidence-types.js';
import type { GapId } from './frameworks.js';
import type { Integrity } from './integrity.js';

/** A gap found: which, and what it means, in a sentence an auditor reads. */
export interface Gap {
  id: GapId;
  text: string;
}

/** Failed sign-ins from one address at or above this count want a follow-up. */
export const FAILED_SIGN_IN_THRESHOLD = 5;

/** Admin actions that answer repeated failed sign-ins: a credential replaced or withdrawn. */
const FOLLOW_UPS: ReadonlySet<string> = new Set(['user.token_rotated', 'user.deleted']);

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

type Check = (evidence: Evidence, integrity: Integrity) => string | undefined;

/** Each gap's check: the sentence when the gap is there, undefined when it is not. */
const CHECKS: Record<GapId, Check> = {
  'log-not-intact': (_, i) => (i.ok ? undefined : `The audit log did not verify: ${i.problem?.message ?? 'unknown problem'}. Nothing in this report can be relied on until that is explained.`),
  'entries-differ-from-log': (_, i) => (i.mismatched.length === 0 ? undefined : `${plural(i.mismatched.length, 'record')} the relay showed with details differ from the verified log (first: index ${i.mismatched[0]}): the figures may not match the signed log.`),
  'no-checkpoint-covers-period': (e, i) => (!i.ok || e.records.last === null || i.covering ? undefined : `No signed checkpoint covers the period's last record (index ${e.records.last}): records at the end of the period could be removed without notice. Sign one with 'tether audit checkpoint' and keep a copy away from the relay.`),
  'details-unreadable': (e) => (e.records.unreadable === 0 ? undefined : `${plural(e.records.unreadable, 'record')} of the period could not be read: the key that sealed their details is no longer on the relay. They verify but are not counted.`),
  'no-records': (e) => (e.records.inPeriod > 0 ? undefined : 'The log holds no record in this period: the relay was not running, or the period is wrong.'),
  'no-access-review': (e) => (e.reviews.some((r) => r.reviewers.length > 0) ? undefined : 'No access review happened in the period: no access request was approved or denied by a reviewer.'),
  'grants-without-expiry': (e) => {
    const open = e.accessHolders.filter((h) => h.role !== 'owner' && h.expiresAt === null);
    if (open.length === 0) return undefined;
    const names = open.slice(0, 5).map((h) => `${h.user} on ${h.tunnel}`).join(', ');
    return `${plural(open.length, 'member')} hold access that never expires (${names}${open.length > 5 ? ', …' : ''}): give grants an end, or review them at intervals.`;
  },
  'failed-sign-ins-without-follow-up': (e) => {
    const rotations = e.adminActions.filter((a) => FOLLOW_UPS.has(a.event));
    const unanswered = e.failedSignIns.bySource.filter((s) => s.count >= FAILED_SIGN_IN_THRESHOLD && !rotations.some((a) => Date.parse(a.time) >= Date.parse(s.first)));
    if (unanswered.length === 0) return undefined;
    return `${plural(unanswered.length, 'address', 'addresses')} failed to sign in ${FAILED_SIGN_IN_THRESHOLD} times or more (${unanswered.slice(0, 5).map((s) => `${s.address}: ${s.count}`).join(', ')}) and no token was rotated or user deleted after: no follow-up is recorded.`;
  },
  'no-admin-actions': (e) => (e.adminActions.length > 0 ? undefined : 'No user was created, deleted or given a new token, and no tunnel was deleted or reconfigured, in the period: no identity management is recorded.'),
};

/** The gaps among `ids` that the evidence shows. */
export function findGaps(ids: readonly GapId[], evidence: Evidence, integrity: Integrity): Gap[] {
  return ids.flatMap((id) => {
    const text = CHECKS[id](evidence, integrity);
    return text === undefined ? [] : [{ id, text }];
  });
}
