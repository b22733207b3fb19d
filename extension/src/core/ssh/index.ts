export {
  SshShell,
  type HostKeyDecision,
  type HostKeyInfo,
  type SshShellEvents,
  type SshShellOptions,
} from './ssh-shell.js';
export {
  addKnownHost,
  checkHostKey,
  fingerprint,
  hostMatches,
  keyTypeOf,
  knownHostName,
  knownKeyTypes,
  parseKnownHosts,
  readKnownHosts,
  type HostKeyCheck,
  type KnownHostEntry,
} from './known-hosts.js';
