import Negotiator from 'negotiator';
import { fieldValue } from './header-fields.js';
import type { HeaderFields } from './ingress-types.js';

/** The content codings the relay produces, best first: br wins a tie with gzip. */
export const CONTENT_CODINGS = ['br', 'gzip'] as const;
export type ContentCoding = (typeof CONTENT_CODINGS)[number];

// @types/negotiator (0.6) predates negotiator 1.0's `preferred` option, which breaks ties of
// equal q between codings by our order rather than by the order the client listed them.
type RankEncodings = (available: readonly string[], options: { preferred: readonly string[] }) => string[];

const AVAILABLE = [...CONTENT_CODINGS, 'identity'];

/**
 * The codings among br and gzip the client accepts (Accept-Encoding, RFC 9110 §12.5.3), in the
 * order to prefer them: higher q first, br before gzip at equal q, `*` covering codings it does
 * not name, q=0 excluding. A coding ranked below identity is left out (the client would rather
 * have the body as it is). No field, or an empty one, accepts none.
 */
export function acceptableCodings(headers: HeaderFields): ContentCoding[] {
  const accept = fieldValue(headers, 'accept-encoding');
  if (accept === undefined || accept.trim() === '') return [];
  const negotiator = new Negotiator({ headers: { 'accept-encoding': accept } });
  const ranked = (negotiator.encodings as RankEncodings).call(negotiator, AVAILABLE, { preferred: AVAILABLE });
  const identity = ranked.indexOf('identity');
  const before = identity === -1 ? ranked : ranked.slice(0, identity);
  return before.filter((c): c is ContentCoding => (CONTENT_CODINGS as readonly string[]).includes(c));
}
