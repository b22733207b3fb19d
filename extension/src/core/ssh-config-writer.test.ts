import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ErrorCode, isTetherError } from '@tether/shared';
import {
  addInclude,
  hasInclude,
  INCLUDE_LINE,
  parseManagedEntries,
  removeManagedEntry,
  removeManagedHost,
  renderHostEntry,
  setManagedHostUser,
  upsertManagedEntry,
  withEntryUser,
  writeManagedHost,
  type HostEntry,
} from './ssh-config-writer.js';

const entry = (over: Partial<HostEntry> = {}): HostEntry => ({
  alias: 'tether-laptop',
  hostName: '127.0.0.1',
  port: 40022,
  user: 'alice',
  hostKeyAlias: 'tether-laptop',
  ...over,
});

const temps: string[] = [];
async function tempHome(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tether-sshcfg-'));
  temps.push(dir);
  return dir;
}
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

describe('renderHostEntry', () => {
  test('writes the fields that are set', () => {
    assert.equal(
      renderHostEntry(entry({ identityFile: '/home/alice/my keys/id' })),
      'Host tether-laptop\n  HostName 127.0.0.1\n  Port 40022\n  User alice\n  IdentityFile "/home/alice/my keys/id"\n  HostKeyAlias tether-laptop\n',
    );
    assert.equal(renderHostEntry({ alias: 'x', hostName: 'h', port: 22 }), 'Host x\n  HostName h\n  Port 22\n');
  });

  const refused: [what: string, e: HostEntry][] = [
    ['an alias with a space', entry({ alias: 'a b' })],
    ['an alias with a newline', entry({ alias: 'a\nProxyCommand x' })],
    ['a user with a newline', entry({ user: 'a\n  ProxyCommand evil' })],
    ['an identity file with a quote', entry({ identityFile: '/x"y' })],
    ['port 0', entry({ port: 0 })],
    ['port 70000', entry({ port: 70000 })],
  ];
  for (const [what, e] of refused) {
    test(`refuses ${what}`, () => {
      assert.throws(() => renderHostEntry(e), (err) => isTetherError(err, ErrorCode.INVALID_ARGUMENT));
    });
  }
});

describe('managed file', () => {
  test('upsert adds, replaces in place and keeps other entries', () => {
    const one = upsertManagedEntry(undefined, entry());
    const two = upsertManagedEntry(one, entry({ alias: 'tether-server', hostKeyAlias: 'tether-server', port: 40023 }));
    const replaced = upsertManagedEntry(two, entry({ port: 40099 }));
    assert.deepEqual([...parseManagedEntries(replaced).keys()], ['tether-laptop', 'tether-server']);
    assert.match(parseManagedEntries(replaced).get('tether-laptop') ?? '', /Port 40099/);
    assert.match(parseManagedEntries(replaced).get('tether-server') ?? '', /Port 40023/);
    assert.match(replaced, /^# Managed by the Tether/);
  });

  test('upsert is idempotent', () => {
    const once = upsertManagedEntry(undefined, entry());
    assert.equal(upsertManagedEntry(once, entry()), once);
  });

  test('remove drops only that entry', () => {
    const two = upsertManagedEntry(upsertManagedEntry(undefined, entry()), entry({ alias: 'tether-b' }));
    assert.deepEqual([...parseManagedEntries(removeManagedEntry(two, 'tether-laptop')).keys()], ['tether-b']);
    assert.equal(removeManagedEntry(two, 'absent'), two);
  });
});

describe('Include line', () => {
  const home = '/home/alice';
  const present: [what: string, config: string][] = [
    ['the tilde form', 'Include ~/.ssh/tether/config\nHost a\n  HostName a\n'],
    ['the relative form with =', 'include=tether/config\n'],
    ['the absolute form among others', 'Include ~/.ssh/other "/home/alice/.ssh/tether/config"\n'],
    ['after a comment, indented', '# mine\n   Include ~/.ssh/tether/config\n'],
  ];
  for (const [what, config] of present) {
    test(`recognises ${what}`, () => {
      assert.equal(hasInclude(config, home), true);
      assert.equal(addInclude(config, home), undefined);
    });
  }

  test('an Include inside a Host block does not count', () => {
    const config = 'Host a\n  Include ~/.ssh/tether/config\n';
    assert.equal(hasInclude(config, home), false);
    assert.equal(addInclude(config, home), `${INCLUDE_LINE}\n\n${config}`);
  });

  test('prepends once, keeping the rest byte for byte', () => {
    const foreign = 'Host   work\n\tHostName 10.0.0.1   # trailing  \n\n\nMatch all\n  ServerAliveInterval 30';
    const added = addInclude(foreign, home);
    assert.ok(added?.endsWith(foreign));
    assert.ok(added?.startsWith(`${INCLUDE_LINE}\n`));
    assert.equal(addInclude(added, home), undefined);
  });

  test('keeps CRLF files CRLF and a BOM first', () => {
    const foreign = '\uFEFFHost a\r\n  HostName a\r\n';
    assert.equal(addInclude(foreign, home), `\uFEFF${INCLUDE_LINE}\r\n\r\nHost a\r\n  HostName a\r\n`);
  });

  test('a missing or empty config gets just the line', () => {
    assert.equal(addInclude(undefined, home), `${INCLUDE_LINE}\n`);
    assert.equal(addInclude('', home), `${INCLUDE_LINE}\n`);
  });
});

describe('writeManagedHost', () => {
  test('creates ~/.ssh (0700), the managed file and ~/.ssh/config (0600) when missing', async () => {
    const home = await tempHome();
    const result = await writeManagedHost(entry(), home);
    assert.equal(result.includeAdded, true);
    assert.equal((await stat(join(home, '.ssh'))).mode & 0o777, 0o700);
    assert.equal((await stat(join(home, '.ssh', 'tether'))).mode & 0o777, 0o700);
    assert.equal((await stat(result.userConfig)).mode & 0o777, 0o600);
    assert.equal((await stat(result.managedFile)).mode & 0o777, 0o600);
    assert.equal(await readFile(result.userConfig, 'utf8'), `${INCLUDE_LINE}\n`);
    assert.match(await readFile(result.managedFile, 'utf8'), /Host tether-laptop\n {2}HostName 127\.0\.0\.1\n {2}Port 40022\n/);
  });

  test('preserves the user config byte for byte and is idempotent', async () => {
    const home = await tempHome();
    await mkdir(join(home, '.ssh'), { mode: 0o755 });
    const foreign = 'Host work\n  HostName work.example\n  User bob\n# no newline at end';
    await writeFile(join(home, '.ssh', 'config'), foreign, { mode: 0o644 });

    const first = await writeManagedHost(entry(), home);
    const afterFirst = await readFile(first.userConfig, 'utf8');
    const managedFirst = await readFile(first.managedFile, 'utf8');
    assert.equal(afterFirst, `${INCLUDE_LINE}\n\n${foreign}`);
    // An existing ~/.ssh and config keep the modes the user gave them.
    assert.equal((await stat(join(home, '.ssh'))).mode & 0o777, 0o755);
    assert.equal((await stat(first.userConfig)).mode & 0o777, 0o644);

    const second = await writeManagedHost(entry(), home);
    assert.equal(second.includeAdded, false);
    assert.equal(await readFile(first.userConfig, 'utf8'), afterFirst);
    assert.equal(await readFile(first.managedFile, 'utf8'), managedFirst);
  });

  test('writes through a symlinked ~/.ssh/config instead of replacing the link', async () => {
    const home = await tempHome();
    await mkdir(join(home, '.ssh'));
    await writeFile(join(home, 'dotfiles-ssh-config'), 'Host a\n');
    await symlink(join(home, 'dotfiles-ssh-config'), join(home, '.ssh', 'config'));
    await writeManagedHost(entry(), home);
    assert.equal(await readFile(join(home, 'dotfiles-ssh-config'), 'utf8'), `${INCLUDE_LINE}\n\nHost a\n`);
  });

  test('removeManagedHost drops the entry and tolerates a missing file', async () => {
    const home = await tempHome();
    await removeManagedHost('tether-laptop', home);
    const { managedFile } = await writeManagedHost(entry(), home);
    await writeManagedHost(entry({ alias: 'tether-b' }), home);
    await removeManagedHost('tether-laptop', home);
    assert.deepEqual([...parseManagedEntries(await readFile(managedFile, 'utf8')).keys()], ['tether-b']);
  });
});

describe('the user of a managed entry (Change SSH User…)', () => {
  const two = upsertManagedEntry(upsertManagedEntry(undefined, entry()), entry({ alias: 'tether-b', user: 'bob' }));

  test('replaces the User line of that entry only, keeping its other lines and the other entries', () => {
    const updated = withEntryUser(two, 'tether-laptop', 'deploy') ?? '';
    assert.equal(updated, upsertManagedEntry(two, entry({ user: 'deploy' })));
    assert.equal(parseManagedEntries(updated).get('tether-b'), parseManagedEntries(two).get('tether-b'));
  });

  test('adds a User line after Port to an entry written without one', () => {
    const without = upsertManagedEntry(undefined, entry({ user: undefined }));
    assert.equal(withEntryUser(without, 'tether-laptop', 'deploy'), upsertManagedEntry(undefined, entry({ user: 'deploy' })));
  });

  test('no entry, or the same user already: nothing to write', () => {
    assert.equal(withEntryUser(two, 'tether-other', 'deploy'), undefined);
    assert.equal(withEntryUser(undefined, 'tether-laptop', 'deploy'), undefined);
    assert.equal(withEntryUser(two, 'tether-laptop', 'alice'), undefined);
  });

  test('setManagedHostUser rewrites the file only when the entry exists', async () => {
    const home = await tempHome();
    assert.equal(await setManagedHostUser('tether-laptop', 'deploy', home), false, 'no file yet');
    const { managedFile } = await writeManagedHost(entry(), home);
    assert.equal(await setManagedHostUser('tether-laptop', 'deploy', home), true);
    assert.match(await readFile(managedFile, 'utf8'), /Port 40022\n {2}User deploy\n/);
    assert.equal((await stat(managedFile)).mode & 0o777, 0o600);
    assert.equal(await setManagedHostUser('tether-laptop', 'deploy', home), false, 'already so');
  });
});
