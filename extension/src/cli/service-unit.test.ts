import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describedShare, environmentFile, execWord, systemdUnit, unitName } from './service-unit.js';

describe('execWord', () => {
  test('plain words stay bare; systemd specifiers and variables are escaped', () => {
    assert.equal(execWord('/usr/bin/node'), '/usr/bin/node');
    assert.equal(execWord('127.0.0.1:22'), '127.0.0.1:22');
    assert.equal(execWord('/opt/100%/cli.js'), '/opt/100%%/cli.js');
  });

  test('spaces, quotes, backslashes and dollars are quoted so systemd reads one word back', () => {
    assert.equal(execWord('/home/a b/cli.js'), '"/home/a b/cli.js"');
    assert.equal(execWord('say "hi"'), '"say \\"hi\\""');
    assert.equal(execWord('C:\\x'), '"C:\\\\x"');
    assert.equal(execWord('/p/$HOME'), '"/p/$$HOME"');
  });

  test('a control character is refused rather than written', () => {
    assert.throws(() => execWord('a\nExecStartPre=/bin/rm'), /control character/);
  });
});

describe('systemdUnit', () => {
  const spec = { tunnel: 'laptop', target: { host: '127.0.0.1', port: 22 }, node: '/usr/bin/node', cli: '/usr/lib/node_modules/tether/cli.js', envFile: '/home/a/.config/tether/share-laptop.env' };

  test('runs tether share with the target, reads the token from the environment file, restarts only on crashes', () => {
    const unit = systemdUnit(spec);
    assert.match(unit, /^ExecStart=\/usr\/bin\/node --initial-old-space-size=64 \/usr\/lib\/node_modules\/tether\/cli\.js share laptop --target 127\.0\.0\.1:22$/m);
    assert.match(unit, /^EnvironmentFile=\/home\/a\/\.config\/tether\/share-laptop\.env$/m);
    assert.match(unit, /^Restart=on-failure$/m);
    assert.match(unit, /^RestartPreventExitStatus=1 2$/m);
    assert.match(unit, /^WantedBy=default\.target$/m);
    assert.equal(unitName('laptop'), 'tether-share-laptop.service');
  });

  test('its Description reads back as the tunnel and target', () => {
    assert.deepEqual(describedShare(systemdUnit(spec)), { tunnel: 'laptop', target: '127.0.0.1:22' });
    assert.equal(describedShare('[Unit]\nDescription=something else\n'), undefined);
  });
});

describe('environmentFile', () => {
  test('the token and the relays, quoted', () => {
    assert.equal(environmentFile('tok"en\\', ['https://a.example', 'https://b.example']).split('\n').slice(1).join('\n'), 'TETHER_TOKEN="tok\\"en\\\\"\nTETHER_RELAY="https://a.example https://b.example"\n');
  });

  test('a newline in a value is refused', () => {
    assert.throws(() => environmentFile('a\nb', ['http://x']), /TETHER_TOKEN holds a control character/);
  });
});
