/** What a refusal says, by the rule that refused (`api.perAddress`…), for people. */
export function limitMessage(scope: string | undefined, what: { address: string; name?: string; route?: string; tunnel?: string }): string {
  const by = what.name === undefined ? `from ${what.address}` : `by ${what.name}`;
  switch (scope) {
    case 'api.perAddress': return `too many API requests from ${what.address}`;
    case 'api.perIdentity': return `too many API requests ${by}`;
    case 'api.perRoute': return `too many ${what.route ?? 'requests'} requests ${by}`;
    case 'upgrades.perAddress': return `too many connections to the relay from ${what.address}`;
    case 'upgrades.perIdentity': return `too many connections to the relay ${by}`;
    case 'signInFailures.perAddress':
    case 'signInFailures.perName': return `too many failed sign-ins from ${what.address}: locked out; check the token`;
    case 'opens.perAddress': return `too many stream opens from ${what.address}`;
    case 'opens.perIdentity': return `too many stream opens ${by}`;
    case 'opens.perTunnel': return `too many stream opens to tunnel ${what.tunnel ?? '?'}`;
    case 'registrations.perIdentity': return `${what.name ?? what.address} shared tunnels too often`;
    default: return 'too many requests';
  }
}
