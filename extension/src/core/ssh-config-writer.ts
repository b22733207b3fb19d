import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createError, ErrorCode } from '@tether/shared';

/** One managed `Host` block. */
export interface HostEntry {
  /** The name after `Host` (what `ssh ALIAS` and Remote-SSH use). */
  alias: string;
  hostName: string;
  port: number;
  user?: string;
  identityFile?: string;
  /** Keeps known_hosts entries stable when the local port changes. */
  hostKeyAlias?: string;
}

/** The line Tether adds to ~/.ssh/config; ssh resolves `~` itself. */
export const INCLUDE_LINE = 'Include ~/.ssh/tether/config';

const HEADER = [
  '# Managed by the Tether VS Code extension: edits here are overwritten.',
  '# ~/.ssh/config includes this file; put your own hosts there, not here.',
  '',
].join('\n');

// ssh_config values are whitespace-separated; a value with spaces must be quoted, and nothing
// that could smuggle a second keyword (newlines, quotes) may reach the file at all.
const SAFE_WORD = /^[A-Za-z0-9._@%+=:,/~-]+$/;

function quote(value: string, what: string): string {
  if (/[\r\n"]/.test(value) || value === '') throw createError(ErrorCode.INVALID_ARGUMENT, `cannot write ${what} ${JSON.stringify(value)} to an SSH config`);
  return SAFE_WORD.test(value) ? value : `"${value}"`;
}

/** The text of one Host block, ending with a newline. */
export function renderHostEntry(entry: HostEntry): string {
  if (!SAFE_WORD.test(entry.alias)) throw createError(ErrorCode.INVALID_ARGUMENT, `invalid SSH host alias ${JSON.stringify(entry.alias)}`);
  if (!Number.isInteger(entry.port) || entry.port < 1 || entry.port > 65535) throw createError(ErrorCode.INVALID_ARGUMENT, `invalid port ${entry.port}`);
  const lines = [`Host ${entry.alias}`, `  HostName ${quote(entry.hostName, 'host name')}`, `  Port ${entry.port}`];
  if (entry.user) lines.push(`  User ${quote(entry.user, 'user')}`);
  if (entry.identityFile) lines.push(`  IdentityFile ${quote(entry.identityFile, 'identity file')}`);
  if (entry.hostKeyAlias) lines.push(`  HostKeyAlias ${quote(entry.hostKeyAlias, 'host key alias')}`);
  return `${lines.join('\n')}\n`;
}

/** Splits a managed file into its Host blocks, keyed by alias, in file order. */
export function parseManagedEntries(text: string): Map<string, string> {
  const blocks = new Map<string, string>();
  let alias: string | undefined;
  let lines: string[] = [];
  const flush = (): void => {
    if (alias !== undefined) blocks.set(alias, `${lines.join('\n').replace(/\s+$/, '')}\n`);
  };
  for (const line of text.split(/\r?\n/)) {
    const host = /^Host\s+(\S+)\s*$/.exec(line);
    if (host) {
      flush();
      alias = host[1];
      lines = [line];
    } else if (alias !== undefined && line.trim() !== '' && !line.startsWith('#')) {
      lines.push(line);
    }
  }
  flush();
  return blocks;
}

function renderManaged(blocks: Map<string, string>): string {
  return `${HEADER}${[...blocks.values()].map((b) => `\n${b}`).join('')}`;
}

/** The managed file with `entry` added or replaced; other entries keep their place. */
export function upsertManagedEntry(existing: string | undefined, entry: HostEntry): string {
  const blocks = parseManagedEntries(existing ?? '');
  blocks.set(entry.alias, renderHostEntry(entry));
  return renderManaged(blocks);
}

/**
 * The managed file with the `User` of the entry for `alias` set to `user` (its other lines kept),
 * or undefined when the file has no such entry or it already says so.
 */
export function withEntryUser(existing: string | undefined, alias: string, user: string): string | undefined {
  const blocks = parseManagedEntries(existing ?? '');
  const block = blocks.get(alias);
  if (block === undefined) return undefined;
  const line = `  User ${quote(user, 'user')}`;
  const lines = block.replace(/\n$/, '').split('\n');
  const at = lines.findIndex((l) => /^\s*User(\s|=)/i.test(l));
  if (at >= 0 && lines[at] === line) return undefined;
  if (at >= 0) lines[at] = line;
  else lines.splice(Math.max(1, lines.findIndex((l) => /^\s*Port(\s|=)/i.test(l)) + 1), 0, line);
  blocks.set(alias, `${lines.join('\n')}\n`);
  return renderManaged(blocks);
}

/** The managed file without the entry for `alias`. */
export function removeManagedEntry(existing: string | undefined, alias: string): string {
  const blocks = parseManagedEntries(existing ?? '');
  blocks.delete(alias);
  return renderManaged(blocks);
}

/**
 * True when `config` already includes the managed file before its first Host or Match line
 * (an Include inside a Host block applies only to that host).
 */
export function hasInclude(config: string, home: string): boolean {
  const wanted = new Set(['~/.ssh/tether/config', 'tether/config', `${home}/.ssh/tether/config`]);
  for (const line of config.split(/\r?\n/)) {
    if (/^\s*(host|match)(\s|=)/i.test(line)) return false;
    const m = /^\s*include(?:\s*=\s*|\s+)(.+?)\s*$/i.exec(line);
    if (m && m[1].split(/\s+/).some((p) => wanted.has(p.replace(/^"|"$/g, '')))) return true;
  }
  return false;
}

/**
 * `config` with the Include line at the top, or undefined when it is already there. Only the
 * line is prepended: everything the user wrote stays byte for byte (a BOM stays first, and the
 * file's own line ending is used).
 */
export function addInclude(config: string | undefined, home: string): string | undefined {
  if (config === undefined || config === '') return `${INCLUDE_LINE}\n`;
  if (hasInclude(config, home)) return undefined;
  const bom = config.startsWith('\uFEFF') ? '\uFEFF' : '';
  const eol = config.includes('\r\n') ? '\r\n' : '\n';
  return `${bom}${INCLUDE_LINE}${eol}${eol}${config.slice(bom.length)}`;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function ensurePrivateDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode passes through the umask; ssh wants ~/.ssh private, so set it exactly.
  if (created !== undefined) await chmod(dir, 0o700);
}

export interface WriteResult {
  /** The managed file (~/.ssh/tether/config). */
  managedFile: string;
  /** The user's config (~/.ssh/config). */
  userConfig: string;
  /** True when the Include line was added to the user's config by this call. */
  includeAdded: boolean;
}

/** Where the files live for a given home directory. */
function sshConfigPaths(home: string): { sshDir: string; managedDir: string; managedFile: string; userConfig: string } {
  const sshDir = join(home, '.ssh');
  const managedDir = join(sshDir, 'tether');
  return { sshDir, managedDir, managedFile: join(managedDir, 'config'), userConfig: join(sshDir, 'config') };
}

/**
 * Adds or replaces `entry` in ~/.ssh/tether/config and makes ~/.ssh/config include that file.
 * Creates ~/.ssh (0700) and ~/.ssh/config (0600) when missing. Running it twice with the same
 * entry changes nothing.
 */
export async function writeManagedHost(entry: HostEntry, home: string): Promise<WriteResult> {
  const { sshDir, managedDir, managedFile, userConfig } = sshConfigPaths(home);
  await ensurePrivateDir(sshDir);
  await ensurePrivateDir(managedDir);

  const managed = upsertManagedEntry(await readOptional(managedFile), entry);
  // The managed file is ours: replace it atomically so ssh never reads half of it.
  const temp = `${managedFile}.${process.pid}.tmp`;
  await writeFile(temp, managed, { mode: 0o600 });
  await rename(temp, managedFile);

  const current = await readOptional(userConfig);
  const updated = addInclude(current, home);
  if (updated !== undefined) {
    // Written in place, not renamed over: ~/.ssh/config is often a symlink into a dotfiles
    // repository, and its mode and owner are the user's.
    await writeFile(userConfig, updated, current === undefined ? { mode: 0o600 } : {});
  }
  return { managedFile, userConfig, includeAdded: updated !== undefined };
}

/** Removes the entry for `alias` from the managed file (the Include line stays: it is harmless). */
export async function removeManagedHost(alias: string, home: string): Promise<void> {
  const { managedFile } = sshConfigPaths(home);
  const current = await readOptional(managedFile);
  if (current === undefined) return;
  await writeFile(managedFile, removeManagedEntry(current, alias), { mode: 0o600 });
}

/**
 * Sets the user of the managed entry for `alias`, when there is one (so `ssh tether-NAME` and a
 * Remote-SSH window opened from its history log in as the user just chosen). True when the file
 * changed.
 */
export async function setManagedHostUser(alias: string, user: string, home: string): Promise<boolean> {
  const { managedFile } = sshConfigPaths(home);
  const updated = withEntryUser(await readOptional(managedFile), alias, user);
  if (updated === undefined) return false;
  const temp = `${managedFile}.${process.pid}.tmp`;
  await writeFile(temp, updated, { mode: 0o600 });
  await rename(temp, managedFile);
  return true;
}
