/**
 * OpenSSH known_hosts: parse, look up a host's key, append a new one. Only what a client that
 * checks one host needs; the format is sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT".
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createError, ErrorCode } from '@tether/shared';

export interface KnownHostEntry {
  /** 1-based line number in the file. */
  line: number;
  marker: '@revoked' | '@cert-authority' | undefined;
  /** The comma-separated host patterns, as written (plain, `[host]:port`, `!negated`, or hashed `|1|salt|hash`). */
  patterns: string[];
  keyType: string;
  /** The decoded public key blob. */
  key: Buffer;
}

export type HostKeyCheck =
  | { status: 'known'; line: number }
  | { status: 'unknown' }
  /** The host is listed, but with other keys: `line` is the first of them (OpenSSH's "offending key"). */
  | { status: 'changed'; line: number }
  /** The key is listed under `@revoked` for this host. */
  | { status: 'revoked'; line: number };

/** `host` as known_hosts names it: plain for port 22 (or none), `[host]:port` otherwise. */
export function knownHostName(host: string, port?: number): string {
  return port === undefined || port === 22 ? host : `[${host}]:${port}`;
}

/** 'SHA256:…' of a public key blob, exactly as `ssh-keygen -l` prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type a public key blob names in its first field ('ssh-ed25519', 'ssh-rsa', …). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return '';
  const len = key.readUInt32BE(0);
  return len > 0 && 4 + len <= key.length ? key.toString('latin1', 4, 4 + len) : '';
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses known_hosts text; comments, blank lines and lines that do not parse are skipped. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const fields = lines[i].trim().split(/\s+/);
    if (fields[0] === '' || fields[0].startsWith('#')) continue;
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      if (fields[0] !== '@revoked' && fields[0] !== '@cert-authority') continue;
      marker = fields.shift() as KnownHostEntry['marker'];
    }
    if (fields.length < 3 || !BASE64.test(fields[2])) continue;
    const key = Buffer.from(fields[2], 'base64');
    // A blob that names another type than its line is corrupt (OpenSSH rejects it too).
    if (keyTypeOf(key) !== fields[1]) continue;
    entries.push({ line: i + 1, marker, patterns: fields[0].split(',').filter(Boolean), keyType: fields[1], key });
  }
  return entries;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedMatch(pattern: string, host: string): boolean {
  const [, magic, salt, hash] = pattern.split('|');
  if (magic !== '1' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(host).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** True when `host` matches the entry's patterns (a matching `!pattern` excludes it). */
export function hostMatches(entry: KnownHostEntry, host: string): boolean {
  const name = host.toLowerCase();
  let matched = false;
  for (const pattern of entry.patterns) {
    if (pattern.startsWith('|')) {
      if (hashedMatch(pattern, name)) matched = true;
    } else if (pattern.startsWith('!')) {
      if (globToRegExp(pattern.slice(1)).test(name)) return false;
    } else if (globToRegExp(pattern).test(name)) {
      matched = true;
    }
  }
  return matched;
}

/**
 * What known_hosts says about `key` for `host`: revoked beats known, known beats changed.
 * `@cert-authority` lines never vouch for a plain key.
 */
export function checkHostKey(entries: readonly KnownHostEntry[], host: string, key: Buffer): HostKeyCheck {
  const forHost = entries.filter((e) => e.marker !== '@cert-authority' && hostMatches(e, host));
  const revoked = forHost.find((e) => e.marker === '@revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', line: revoked.line };
  const plain = forHost.filter((e) => e.marker === undefined);
  const known = plain.find((e) => e.key.equals(key));
  if (known) return { status: 'known', line: known.line };
  return plain.length > 0 ? { status: 'changed', line: plain[0].line } : { status: 'unknown' };
}

/** The key types known_hosts lists for `host` (plain entries), in file order. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], host: string): string[] {
  const types = entries.filter((e) => e.marker === undefined && hostMatches(e, host)).map((e) => e.keyType);
  return [...new Set(types)];
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** Reads and parses a known_hosts file; a missing file is an empty one. */
export async function readKnownHosts(file: string): Promise<KnownHostEntry[]> {
  return parseKnownHosts(await readText(file));
}

/**
 * Appends `host keyType base64` unless that key is already known for `host`; creates the folder
 * (0700) and the file (0600) when missing. Returns true when a line was written.
 */
export async function addKnownHost(file: string, host: string, key: Buffer): Promise<boolean> {
  if (!/^[^\s,#@|!*?][^\s,*?]*$/.test(host)) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `cannot save a host key for ${JSON.stringify(host)}: not a plain host name`);
  }
  const keyType = keyTypeOf(key);
  if (!keyType) throw createError(ErrorCode.INVALID_ARGUMENT, 'cannot save a host key: not an SSH public key blob');
  const text = await readText(file);
  if (checkHostKey(parseKnownHosts(text), host, key).status === 'known') return false;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const separator = text === '' || text.endsWith('\n') ? '' : '\n';
  await appendFile(file, `${separator}${host} ${keyType} ${key.toString('base64')}\n`, { mode: 0o600 });
  return true;
}
