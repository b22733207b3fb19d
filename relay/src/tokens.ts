import { createHash, randomBytes } from 'node:crypto';

/**
 * Tokens are 32 random bytes (base64url) behind a `tth_` prefix. They carry 256 bits of
 * entropy, so a plain SHA-256 is the right storage hash: a slow password hash protects
 * low-entropy secrets and would only cost time on every request here.
 */
export function generateToken(): string {
  return `tth_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
