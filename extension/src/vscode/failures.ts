/**
 * How a failure is told to the user: one sentence and the actions that can help. Kept free of
 * 'vscode' so the rules are unit-tested; notify.ts shows the result.
 */
import { isTetherError } from '@tether/shared';

export type FailureAction = 'Retry' | 'Sign In' | 'Show Log';

export interface FailureAdvice {
  message: string;
  actions: FailureAction[];
  /** The TETHER_ERR_* code, when the error has one. */
  code?: string;
}

const CANNOT_RETRY = new Set([
  'TETHER_ERR_INVALID_TUNNEL_NAME',
  'TETHER_ERR_RELAY_REJECTED',
  // An invite that is not valid, revoked, expired, used up or someone else's stays so: a new one is needed.
  'TETHER_ERR_INVITE_INVALID',
  'TETHER_ERR_INVITE_REVOKED',
  'TETHER_ERR_INVITE_EXPIRED',
  'TETHER_ERR_INVITE_USED_UP',
  'TETHER_ERR_INVITE_NOT_FOR_YOU',
]);
/** Fixed by signing in again: with another token, or (not a relay at that URL) another URL. */
const SIGN_IN_FIXES = new Set(['TETHER_ERR_UNAUTHORIZED', 'TETHER_ERR_RELAY_REJECTED']);

/**
 * `doing` names what failed ("Sign-in", "Sharing laptop"). Refused tokens, and relay URLs that
 * reach something that is not a usable relay, lead to Sign In (retrying the same would fail the
 * same way); any other failure offers Retry when the caller can retry; Show Log is always there.
 */
export function describeFailure(err: unknown, doing: string, canRetry: boolean): FailureAdvice {
  const code = isTetherError(err) ? err.code : undefined;
  const why = err instanceof Error ? err.message : String(err);
  const actions: FailureAction[] = [];
  if (code && SIGN_IN_FIXES.has(code)) actions.push('Sign In');
  else if (canRetry && !(code && CANNOT_RETRY.has(code))) actions.push('Retry');
  actions.push('Show Log');
  const sentence = why.replace(/\.$/, '');
  return { message: `${doing} failed: ${sentence}${code ? ` [${code}]` : ''}`, actions, code };
}
