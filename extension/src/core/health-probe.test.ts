import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import { ErrorCode, isTetherError, MuxSession, type ErrorCodeString, type TetherError } from '@tether/shared';
import { checkSession, pingIntervalMs, probeHealth } from './health-probe.js';
import type { RelaySession } from './relay-session.js';
import { closedPort, listening } from '../test-support/testing.js';

const rejectsWith = async (promise: Promise<unknown>, code: ErrorCodeString): Promise<TetherError> => {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(isTetherError(err, code), `expected ${code}, got ${String(err)}`);
  return err;
};

describe('probeHealth', () => {
  test('a 2xx passes; any other status or no answer is RELAY_UNREACHABLE', async (t) => {
    let status = 200;
    const server = http.createServer((req, res) => {
      res.writeHead(req.url === '/healthz' ? status : 404).end('{}');
    });
    const port = await listening(server);
    t.after(() => server.close());
    await probeHealth(`ws://127.0.0.1:${port}`);
    status = 503;
    const err = await rejectsWith(probeHealth(`http://127.0.0.1:${port}`), ErrorCode.RELAY_UNREACHABLE);
    assert.match(err.message, /answered HTTP 503 to GET \/healthz/);
    await rejectsWith(probeHealth(`http://127.0.0.1:${await closedPort()}`), ErrorCode.RELAY_UNREACHABLE);
  });
});

describe('checkSession (PING-based detection)', () => {
  /** A session whose clock the test turns and whose sent frames it counts; the far end says nothing. */
  function quietSession(): { relay: RelaySession; sent: () => number; advance: (ms: number) => void } {
    let clock = 1000;
    let frames = 0;
    const session = new MuxSession({
      role: 'client',
      send: () => {
        frames++;
        return true;
      },
      now: () => clock,
    });
    const relay: RelaySession = { session, closed: new Promise(() => undefined), close: () => session.destroy() };
    return { relay, sent: () => frames, advance: (ms) => (clock += ms) };
  }

  test('the interval is a quarter of detectMs, rounded down', () => {
    assert.deepEqual([4, 3000, 3001, 90].map(pingIntervalMs), [1, 750, 750, 22]);
  });

  const cases: [what: string, detectMs: number, silentMs: number, dead: boolean][] = [
    ['just heard from: pinged', 3000, 0, false],
    ['silent for exactly three intervals: still pinged', 3000, 2250, false],
    ['silent for more than three intervals: lost', 3000, 2251, true],
    ['a short detectMs: three of its intervals', 100, 76, true],
  ];
  for (const [what, detectMs, silentMs, dead] of cases) {
    test(what, () => {
      const { relay, sent, advance } = quietSession();
      const before = sent();
      advance(silentMs);
      const err = checkSession(relay, 'http://a.example', detectMs);
      if (dead) {
        assert.ok(isTetherError(err, ErrorCode.CONNECTION_LOST));
        assert.equal(err.message, `no answer from relay http://a.example for ${silentMs} ms`);
        assert.equal(sent(), before, 'no ping to a relay declared dead');
      } else {
        assert.equal(err, undefined);
        assert.equal(sent(), before + 1, 'one PING sent');
      }
      relay.close();
    });
  }

  test('a relay heard from within the interval is pinged only to refresh the RTT, once per detectMs', () => {
    const { relay, sent, advance } = quietSession();
    const detectMs = 3000;
    assert.equal(checkSession(relay, 'http://a.example', detectMs), undefined);
    assert.equal(sent(), 1, 'the first check pings (no RTT yet)');
    // Traffic keeps arriving: no PING until detectMs after the last one.
    for (let i = 0; i < 3; i++) {
      advance(750);
      relay.session.lastReceivedAt = relay.session.now() - 10;
      assert.equal(checkSession(relay, 'http://a.example', detectMs), undefined);
    }
    assert.equal(sent(), 1, 'no PING while the relay is heard from and the RTT is fresh');
    advance(750);
    relay.session.lastReceivedAt = relay.session.now() - 10;
    checkSession(relay, 'http://a.example', detectMs);
    assert.equal(sent(), 2, 'a PING once detectMs has passed since the last');
    // Idle: the PONG came right after the PING; one interval later it is still recent, two later it is not.
    relay.session.lastReceivedAt = relay.session.now();
    advance(749);
    checkSession(relay, 'http://a.example', detectMs);
    assert.equal(sent(), 2);
    advance(751);
    checkSession(relay, 'http://a.example', detectMs);
    assert.equal(sent(), 3, 'silent for an interval: pinged');
    relay.close();
  });
});
