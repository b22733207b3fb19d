/**
 * The invite id (`jti`) inside an invite code, read without checking the signature, or
 * undefined when `code` is no JWT with an id. `tether invite revoke CODE` needs only the id (the
 * relay decides whether the caller may revoke it), and the client has no key to check it with.
 * The same decode as the relay's inviteIdOf, re-done here: the client core loads no relay code.
 */
export function inviteIdOf(code: string): string | undefined {
  const parts = code.trim().split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    if (typeof claims !== 'object' || claims === null) return undefined;
    const { jti } = claims as { jti?: unknown };
    return typeof jti === 'string' && jti.length > 0 ? jti : undefined;
  } catch {
    return undefined;
  }
}
