import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createError, ErrorCode, WireCode, type TetherError } from './errors.js';
import { decodeOpenMetadata, encodeOpenMetadata } from './open-metadata.js';
import { decodeHello, encodeNewHello, encodeResumeHello, newStreamIdentity, resumeHello, verifyResumeProof, type StreamHello } from './resume.js';
import { checkResumableOptions, ResumableStream, type ResumableOptions } from './resumable-stream.js';
import { ACK_SOON_BYTES, MIN_REPLAY_BUFFER_BYTES } from './resume-defaults.js';
import { MuxSession } from './session.js';
import { FrameType } from './frame.js';
import { acceptOpen, decodeAll, drain, rawFrame, recordingSession, settle, sha256, writeAll } from './test-support/testing.js';
import { createSessionPair } from './transport-pair.js';

/**
 * An opener and an acceptor joined by a path (an in-memory session pair) that the test can
 * break and replace, like a relay dying and another taking over.
 */
class Paths {
  readonly accepted: ResumableStream[] = [];
  readonly table = new Map<string, ResumableStream>();
  /** Every hello the acceptor side received, in order. */
  readonly hellos: StreamHello[] = [];
  opener!: MuxSession;
  acceptor!: MuxSession;
  private readonly options: ResumableOptions;

  constructor(options: ResumableOptions = {}) {
    this.options = options;
    this.next();
  }

  /** A new path (the old one stays as it is). */
  next(): MuxSession {
    const { a, b } = createSessionPair();
    return this.serve(a, b);
  }

  /**
   * A new path whose opener-to-acceptor direction holds every message until `release()`: a
   * relay slow to pass the resume hello on (its OPEN waits for look-ups) while the old path
   * is quick.
   */
  nextHeld(): { session: MuxSession; release: () => void; silence: () => void } {
    let held: Buffer[] | undefined = [];
    let silent = false;
    const pass = (to: () => MuxSession) => (message: Buffer): boolean => {
      if (silent) return true;
      if (held && to() === b) held.push(message);
      else setImmediate(() => to().receive(message));
      return true;
    };
    const a: MuxSession = new MuxSession({ role: 'client', send: pass(() => b) });
    const b: MuxSession = new MuxSession({ role: 'server', send: pass(() => a) });
    this.serve(a, b);
    return {
      session: a,
      release: () => {
        const messages = held ?? [];
        held = undefined;
        for (const message of messages) setImmediate(() => b.receive(message));
      },
      // A path that swallows everything, both ways, and never closes.
      silence: () => {
        silent = true;
        held = undefined;
      },
    };
  }

  private serve(a: MuxSession, b: MuxSession): MuxSession {
    this.opener = a;
    this.acceptor = b;
    b.on('stream', (mux, request) => {
      const hello = decodeOpenMetadata(request.metadata).hello;
      if (hello) this.hellos.push(hello);
      if (!hello) return mux.reject(WireCode.PROTOCOL_ERROR, 'plain streams not served here');
      if (hello.kind === 'new') {
        mux.accept();
        const stream = ResumableStream.accept(mux, request.tunnel, hello, this.options);
        this.table.set(stream.key, stream);
        this.accepted.push(stream);
        return;
      }
      const stream = this.table.get(hello.id.toString('hex'));
      if (!stream) return mux.reject(WireCode.RESUME_UNKNOWN, 'no such stream');
      stream.acceptResume(mux, hello);
    });
    return a;
  }

  /** Breaks the current path as a dying relay does. */
  breakPath(): void {
    this.opener.destroy(createError(ErrorCode.CONNECTION_LOST, 'relay died'));
  }

  async open(): Promise<{ opener: ResumableStream; acceptor: ResumableStream }> {
    const opener = ResumableStream.open(this.opener, 'box', this.options);
    await new Promise<void>((resolve, reject) => {
      opener.once('open', resolve);
      opener.once('close', (err) => reject(err ?? new Error('closed before it opened')));
    });
    await settle(() => this.accepted.length > 0);
    return { opener, acceptor: this.accepted.at(-1)! };
  }
}

function closed(stream: ResumableStream): Promise<TetherError | undefined> {
  return stream.state === 'closed' ? Promise.resolve(stream.error) : new Promise((resolve) => stream.once('close', resolve));
}

test('a transfer both ways survives three broken paths with every byte once and in order', async () => {
  const paths = new Paths({ replayBufferBytes: 256 * 1024, ackBytes: 16 * 1024 });
  const { opener, acceptor } = await paths.open();
  const up = randomBytes(3 * 1024 * 1024 + 17);
  const down = randomBytes(2 * 1024 * 1024 + 5);
  const gotUp = drain(acceptor);
  const gotDown = drain(opener);
  const detaches: string[] = [];
  opener.on('detached', (err) => {
    detaches.push(err.code);
    // Re-attach through a new path after a short outage.
    setTimeout(() => void opener.resume(paths.next()), 5);
  });
  const writing = Promise.all([writeAll(opener, up, 7000), writeAll(acceptor, down, 9000)]);
  for (let i = 0; i < 3; i++) {
    await settle(() => opener.bytesReceived > (i + 1) * 400_000 && !opener.detached, 20_000);
    paths.breakPath();
  }
  await writing;
  const [u, d] = await Promise.all([gotUp, gotDown]);
  assert.equal(u.length, up.length);
  assert.equal(u.sha256, sha256(up));
  assert.equal(d.sha256, sha256(down));
  assert.deepEqual(await Promise.all([closed(opener), closed(acceptor)]), [undefined, undefined]);
  assert.deepEqual(detaches, ['TETHER_ERR_CONNECTION_LOST', 'TETHER_ERR_CONNECTION_LOST', 'TETHER_ERR_CONNECTION_LOST']);
  assert.equal(opener.resumes, 3);
  assert.equal(acceptor.resumes, 3);
  assert.equal(opener.replayedBytes, 0);
});

test('a half-closed stream resumes: the end already sent is not repeated, the rest still flows', async () => {
  const paths = new Paths({ ackDelayMs: 1 });
  const { opener, acceptor } = await paths.open();
  const events: string[] = [];
  acceptor.on('end', () => events.push('acceptor saw end'));
  const gotDown = drain(opener);
  const gotUp = drain(acceptor);
  opener.write(Buffer.from('request'));
  opener.end();
  await settle(() => events.length === 1);
  paths.breakPath();
  await settle(() => opener.detached);
  acceptor.write(Buffer.from('answer, part 1; '));
  await opener.resume(paths.next());
  acceptor.write(Buffer.from('part 2'));
  acceptor.end();
  const [d, u] = await Promise.all([gotDown, gotUp]);
  assert.equal(u.length, 'request'.length);
  assert.equal(d.length, 'answer, part 1; part 2'.length);
  assert.deepEqual(events, ['acceptor saw end']);
  assert.deepEqual(await Promise.all([closed(opener), closed(acceptor)]), [undefined, undefined]);
});

test('GOAWAY-style move: the opener moves to another path without a gap; the old path stays up', async () => {
  const paths = new Paths();
  const { opener, acceptor } = await paths.open();
  const got = drain(acceptor);
  opener.write(Buffer.from('before '));
  await settle(() => acceptor.bytesReceived === 7);
  const old = paths.opener;
  await opener.resume(paths.next());
  assert.equal(opener.detached, false, 'never detached');
  opener.write(Buffer.from('after'));
  opener.end();
  acceptor.end();
  const result = await got;
  assert.equal(result.length, 'before after'.length);
  assert.equal(await closed(opener), undefined);
  assert.equal(old.closed, false, 'the old path itself stays up for other streams');
  assert.equal(old.streamCount, 0, 'the stream left the old path');
});

test('a move whose hello reaches the far end after later ACKs on the old path still takes (no RESUME_OFFSET)', async () => {
  // ACK at once for every byte: the old path acknowledges whatever it delivers.
  const paths = new Paths({ ackBytes: 1 });
  const { opener, acceptor } = await paths.open();
  const got = drain(opener);
  acceptor.write(Buffer.from('before '));
  await settle(() => opener.bytesReceived === 7);
  const { session, release } = paths.nextHeld();
  const moving = opener.resume(session);
  let moved = false;
  void moving.then(() => (moved = true), () => undefined);
  // The hello is held on the new path; the old one keeps delivering, and its ACKs reach the
  // acceptor first.
  acceptor.write(Buffer.from('during '));
  await settle(() => opener.bytesReceived === 14);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(moved, false, 'the hello is still held');
  release();
  await moving;
  assert.equal(opener.detached, false);
  assert.equal(acceptor.state, 'open', 'the acceptor took the hello');
  acceptor.write(Buffer.from('after'));
  acceptor.end();
  opener.end();
  const result = await got;
  assert.equal(result.error, undefined);
  assert.equal(result.sha256, sha256(Buffer.from('before during after')), 'every byte once and in order');
  assert.deepEqual(await Promise.all([closed(opener), closed(acceptor)]), [undefined, undefined]);
});

test('a move whose new path answers nothing is given up after attemptTimeoutMs; if the old path died meanwhile, the stream waits for a resume', async () => {
  const paths = new Paths({ attemptTimeoutMs: 50, resumeTimeoutMs: 5000 });
  const { opener, acceptor } = await paths.open();
  const got = drain(acceptor);
  const old = paths.opener;
  const { session, silence } = paths.nextHeld();
  silence();
  const moving = opener.resume(session);
  // The draining relay goes away while the move waits for an answer that never comes.
  old.destroy(createError(ErrorCode.CONNECTION_LOST, 'relay shut down'));
  await assert.rejects(moving, { code: ErrorCode.TIMEOUT });
  assert.equal(opener.state, 'open');
  assert.equal(opener.detached, true, 'detached: its owner resumes it elsewhere');
  await opener.resume(paths.next());
  opener.write(Buffer.from('still here'));
  opener.end();
  acceptor.end();
  const result = await got;
  assert.equal(result.error, undefined);
  assert.equal(result.sha256, sha256(Buffer.from('still here')));
  assert.equal(await closed(opener), undefined);
});

test('moves while bytes flow both ways: nothing lost, nothing twice (the old path keeps delivering until the switch)', async () => {
  const paths = new Paths({ replayBufferBytes: 512 * 1024, ackBytes: 16 * 1024 });
  const { opener, acceptor } = await paths.open();
  const up = randomBytes(2 * 1024 * 1024 + 3);
  const down = randomBytes(2 * 1024 * 1024 + 9);
  const gotUp = drain(acceptor);
  const gotDown = drain(opener);
  const writing = Promise.all([writeAll(opener, up, 5000), writeAll(acceptor, down, 7000)]);
  let moves = 0;
  for (let i = 0; i < 4; i++) {
    await settle(() => opener.bytesReceived > (i + 1) * 300_000, 20_000);
    if (opener.state === 'closed') break;
    await opener.resume(paths.next());
    moves++;
  }
  await writing;
  const [u, d] = await Promise.all([gotUp, gotDown]);
  assert.equal(u.sha256, sha256(up));
  assert.equal(d.sha256, sha256(down));
  assert.equal(moves, 4);
  assert.deepEqual(await Promise.all([closed(opener), closed(acceptor)]), [undefined, undefined]);
});

test('one resume at a time, and none before the stream opened', async () => {
  const paths = new Paths();
  const pending = ResumableStream.open(paths.opener, 'box');
  await assert.rejects(pending.resume(paths.next()), { code: ErrorCode.INVALID_ARGUMENT });
  pending.reset();
  const { opener } = await paths.open();
  const first = opener.resume(paths.next());
  await assert.rejects(opener.resume(paths.next()), { code: ErrorCode.INVALID_ARGUMENT });
  await first;
  opener.reset();
});

test('a reset while the first OPEN is unanswered cancels it; the late OPEN_OK does not revive the stream', async () => {
  const paths = new Paths();
  const stream = ResumableStream.open(paths.opener, 'box');
  const closes: (TetherError | undefined)[] = [];
  stream.on('close', (err) => closes.push(err));
  stream.reset();
  await settle(() => paths.accepted.length > 0 && paths.accepted[0].state === 'closed', 50);
  assert.equal(stream.state, 'closed');
  assert.equal(closes.length, 1);
  assert.equal(paths.opener.streamCount, 0);
});

test('a connection-level close of the path is a path failure even with a code of its own', async () => {
  const paths = new Paths();
  const { opener, acceptor } = await paths.open();
  // The relay closes the host's link for a buffer limit: the stream must survive it.
  paths.acceptor.destroy(createError(ErrorCode.BUFFER_LIMIT, 'relay closed the link', 4001));
  await settle(() => opener.detached && acceptor.detached);
  assert.equal(acceptor.state, 'open');
  await opener.resume(paths.next());
  const got = drain(acceptor);
  opener.end();
  acceptor.end();
  assert.equal((await got).length, 0);
  assert.equal(await closed(opener), undefined);
});

test('a resume with a wrong secret is refused and leaves the real stream alone', async () => {
  const paths = new Paths();
  const { opener, acceptor } = await paths.open();
  paths.breakPath();
  await settle(() => opener.detached && acceptor.detached);
  const session = paths.next();
  const forged = session.openStream('box', encodeOpenMetadata({ hello: resumeHello(opener.id, randomBytes(32), 1, 0) }));
  const err = await new Promise<TetherError | undefined>((resolve) => forged.once('close', resolve));
  assert.equal(err?.code, ErrorCode.RESUME_SECRET);
  assert.equal(acceptor.state, 'open');
  // The genuine opener still gets through, with a later attempt number.
  await opener.resume(session);
  assert.equal(opener.detached, false);
  opener.reset();
});

test('an attempt number seen before is refused as a replay', async () => {
  const identity = newStreamIdentity();
  const paths = new Paths({ identity: () => identity });
  const { opener, acceptor } = await paths.open();
  paths.breakPath();
  await settle(() => acceptor.detached);
  await opener.resume(paths.next());
  // Replaying the hello of attempt 1 (as a relay that carried it could) must not work.
  const replayed = paths.opener.openStream('box', encodeOpenMetadata({ hello: resumeHello(opener.id, identity.secret, 1, 0) }));
  const err = await new Promise<TetherError | undefined>((resolve) => replayed.once('close', resolve));
  assert.equal(err?.code, ErrorCode.RESUME_SECRET);
  assert.equal(acceptor.detached, false);
  opener.reset();
});

test('resuming a stream nobody knows is refused, and the opener is reset with the code', async () => {
  const paths = new Paths();
  const { opener } = await paths.open();
  paths.breakPath();
  await settle(() => opener.detached);
  paths.table.clear();
  await assert.rejects(opener.resume(paths.next()), { code: ErrorCode.RESUME_UNKNOWN });
  assert.equal(opener.state, 'closed');
  assert.equal(opener.error?.code, ErrorCode.RESUME_UNKNOWN);
});

test('an offset outside the replay buffer is refused and both ends are reset', async () => {
  const paths = new Paths();
  const { opener, acceptor } = await paths.open();
  paths.breakPath();
  await settle(() => acceptor.detached && opener.detached);
  // The opener claims 1000 bytes received when the acceptor sent none (a bug, or a corrupted
  // state): nothing can continue from there.
  (opener as unknown as { received: number }).received = 1000;
  await assert.rejects(opener.resume(paths.next()), { code: ErrorCode.RESUME_OFFSET });
  assert.equal(opener.error?.code, ErrorCode.RESUME_OFFSET);
  assert.equal(acceptor.state, 'closed');
  assert.equal(acceptor.error?.code, ErrorCode.RESUME_OFFSET);
});

test('the opener rejects an acceptor offset outside its own buffer', async () => {
  const paths = new Paths();
  const { opener } = await paths.open();
  paths.breakPath();
  await settle(() => opener.detached);
  const session = paths.next();
  session.removeAllListeners('stream');
  // A broken acceptor that answers the resume with an impossible offset.
  session.on('stream', () => undefined);
  const { b } = { b: paths.acceptor };
  b.removeAllListeners('stream');
  b.on('stream', (mux) => {
    mux.accept();
    mux.sendAck(999);
  });
  await assert.rejects(opener.resume(session), { code: ErrorCode.RESUME_OFFSET });
  assert.equal(opener.error?.code, ErrorCode.RESUME_OFFSET);
});

test('a stream not resumed in time is reset with RESUME_TIMEOUT on both ends', async () => {
  const paths = new Paths({ resumeTimeoutMs: 30 });
  const { opener, acceptor } = await paths.open();
  paths.breakPath();
  const [a, b] = await Promise.all([closed(opener), closed(acceptor)]);
  assert.equal(a?.code, ErrorCode.RESUME_TIMEOUT);
  assert.equal(b?.code, ErrorCode.RESUME_TIMEOUT);
});

test("the far end's own reset is final: no resume", async () => {
  const paths = new Paths();
  const { opener, acceptor } = await paths.open();
  let detached = false;
  opener.on('detached', () => (detached = true));
  acceptor.reset(WireCode.TARGET_REFUSED, 'target went away');
  const err = await closed(opener);
  assert.equal(err?.code, ErrorCode.TARGET_REFUSED);
  assert.equal(detached, false);
});

test('a resume after both ends finished gets the missing ACK and closes cleanly', async () => {
  const paths = new Paths({ ackDelayMs: 1 });
  const { opener, acceptor } = await paths.open();
  drain(opener).catch(() => undefined);
  drain(acceptor).catch(() => undefined);
  acceptor.end();
  await settle(() => opener.state === 'half-closed-remote');
  // The opener's end reaches the acceptor, which then has everything and finishes; the
  // acceptor's ACK of that end is lost with the path.
  paths.opener.receive = () => undefined;
  opener.end();
  await settle(() => acceptor.state === 'closed');
  assert.equal(acceptor.error, undefined);
  assert.equal(opener.state, 'half-closed-remote', 'the opener has not heard its end acknowledged');
  paths.breakPath();
  await settle(() => opener.detached);
  assert.equal(opener.detached, true);
  await opener.resume(paths.next());
  assert.equal(await closed(opener), undefined);
});

test('writes wait for drain once the replay buffer is full, until the far end acknowledges', async () => {
  const paths = new Paths({ replayBufferBytes: 64 * 1024, ackBytes: 8 * 1024 });
  const { opener, acceptor } = await paths.open();
  paths.breakPath();
  await settle(() => opener.detached);
  assert.equal(opener.write(Buffer.alloc(40 * 1024)), true);
  assert.equal(opener.write(Buffer.alloc(40 * 1024)), false, 'over the replay buffer while detached');
  let drained = false;
  opener.once('drain', () => (drained = true));
  const got = drain(acceptor);
  await opener.resume(paths.next());
  await settle(() => drained);
  assert.equal(drained, true);
  opener.end();
  acceptor.end();
  assert.equal((await got).length, 80 * 1024);
});

test('hellos: NEW and RESUME round trip; foreign bytes are no hello; malformed ones are coded', () => {
  const { id, secret } = newStreamIdentity();
  assert.deepEqual(decodeHello(encodeNewHello(id, secret)), { kind: 'new', id, secret });
  const resume = decodeHello(encodeResumeHello(id, secret, 7, 2 ** 40 + 3));
  assert.equal(resume?.kind, 'resume');
  assert.deepEqual(resume?.kind === 'resume' && [resume.attempt, resume.offset], [7, 2 ** 40 + 3]);
  assert.equal(decodeHello(Buffer.alloc(0)), undefined);
  assert.equal(decodeHello(Buffer.from('{"target":"ssh"}')), undefined);
  assert.throws(() => decodeHello(encodeNewHello(id, secret).subarray(0, 20)), { code: ErrorCode.PROTOCOL_ERROR });
  const bad = Buffer.from(encodeResumeHello(id, secret, 1, 0));
  bad.writeUInt32BE(0, 18);
  assert.throws(() => decodeHello(bad), { code: ErrorCode.PROTOCOL_ERROR });
  bad.writeUInt32BE(1, 18);
  bad.writeUInt32BE(0x00400000, 22);
  assert.throws(() => decodeHello(bad), { code: ErrorCode.PROTOCOL_ERROR });
  assert.throws(() => encodeResumeHello(id, secret, 0, 0), { code: ErrorCode.INVALID_ARGUMENT });
  assert.throws(() => encodeResumeHello(id, secret, 1, -1), { code: ErrorCode.INVALID_ARGUMENT });
});

test('an injected identity is what the NEW hello carries and what each RESUME proves', async () => {
  const identity = { id: Buffer.alloc(16, 0xa5), secret: Buffer.alloc(32, 0x3c) };
  let asked = 0;
  const paths = new Paths({
    identity: () => {
      asked += 1;
      return identity;
    },
  });
  const { opener, acceptor } = await paths.open();
  assert.equal(asked, 1);
  assert.deepEqual([opener.id, acceptor.id], [identity.id, identity.id]);
  assert.deepEqual(paths.hellos[0], { kind: 'new', id: identity.id, secret: identity.secret });
  paths.breakPath();
  await settle(() => opener.detached && acceptor.detached);
  await opener.resume(paths.next());
  const resume = paths.hellos[1];
  assert.equal(resume.kind, 'resume');
  assert.ok(resume.kind === 'resume' && verifyResumeProof(identity.secret, resume), 'proved with the injected secret');
  assert.ok(resume.kind === 'resume' && !verifyResumeProof(Buffer.alloc(32, 0x3d), resume), 'and with no other');
  opener.reset();
});

test('an injected identity of the wrong size is refused with a code before anything is sent', () => {
  const { a } = createSessionPair();
  const cases = [
    { id: Buffer.alloc(15), secret: Buffer.alloc(32) },
    { id: Buffer.alloc(16), secret: Buffer.alloc(31) },
    { id: Buffer.alloc(17), secret: Buffer.alloc(32) },
  ];
  for (const identity of cases) {
    assert.throws(() => ResumableStream.open(a, 'box', { identity: () => identity }), { code: ErrorCode.INVALID_ARGUMENT });
  }
  assert.equal(a.streamCount, 0);
});

test('an ACK waiting for its delay leaves right behind the data the receiver writes next (an echo carries it)', async () => {
  const { session, log } = recordingSession();
  const identity = newStreamIdentity();
  const mux = acceptOpen(session, 1);
  const stream = ResumableStream.accept(mux, 'box', { kind: 'new', ...identity }, { lazyAckDelayMs: 60_000 });
  const got: Buffer[] = [];
  stream.on('data', (chunk) => got.push(chunk));
  await new Promise((r) => setImmediate(r));
  log.length = 0;
  session.receive(rawFrame(FrameType.DATA, 0, 1, Buffer.from('ping')));
  assert.equal(Buffer.concat(got).toString(), 'ping');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, [], 'the ACK waits for its delay');
  stream.write(Buffer.from('pong'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ['cork', 'DATA:1', 'ACK:1', 'uncork'], 'data first, its ACK right behind, one write');
  stream.write(Buffer.from('more'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log.slice(4), ['cork', 'DATA:1', 'uncork'], 'nothing new received: no ACK');
  stream.reset();
  session.destroy();
});

/** A resumable stream accepted on a recording session, its received data collected. */
function recordedAcceptor(options: ResumableOptions): { stream: ResumableStream; session: MuxSession; log: string[]; messages: Buffer[] } {
  const { session, log, messages } = recordingSession();
  const mux = acceptOpen(session, 1);
  const stream = ResumableStream.accept(mux, 'box', { kind: 'new', ...newStreamIdentity() }, options);
  stream.on('data', () => undefined);
  return { stream, session, log, messages };
}

/** Waits (timers included) until `done()` holds, for at most `ms`. */
async function until(done: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
}

/** The offsets of the ACK frames in `messages`. */
function ackOffsets(messages: Buffer[]): number[] {
  return messages.flatMap((m) => decodeAll(m)).flatMap((f) => (f.type === FrameType.ACK ? [f.offset] : []));
}

test('a few received bytes are acknowledged lazily; once ACK_SOON_BYTES wait, within ackDelayMs', async () => {
  const { stream, session, log, messages } = recordedAcceptor({ ackDelayMs: 1, lazyAckDelayMs: 60_000 });
  await new Promise((r) => setImmediate(r));
  messages.length = 0;
  session.receive(rawFrame(FrameType.DATA, 0, 1, Buffer.alloc(100)));
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(ackOffsets(messages), [], 'no ACK for 100 bytes within 30 ms (the lazy delay is a minute)');
  session.receive(rawFrame(FrameType.DATA, 0, 1, Buffer.alloc(ACK_SOON_BYTES - 100)));
  await until(() => ackOffsets(messages).length > 0);
  assert.deepEqual(ackOffsets(messages), [ACK_SOON_BYTES], 'the lazy timer gave way to the short one');
  assert.ok(log.includes('ACK:1'));
  stream.reset();
  session.destroy();
});

test('the lazy ACK still comes when nothing goes the other way', async () => {
  const { stream, session, messages } = recordedAcceptor({ ackDelayMs: 60_000, lazyAckDelayMs: 5 });
  await new Promise((r) => setImmediate(r));
  messages.length = 0;
  session.receive(rawFrame(FrameType.DATA, 0, 1, Buffer.from('keystroke')));
  await until(() => ackOffsets(messages).length > 0);
  assert.deepEqual(ackOffsets(messages), [9]);
  stream.reset();
  session.destroy();
});

test('a sender with the smallest replay buffer never waits on the lazy delay', { timeout: 30_000 }, async () => {
  // A lazy delay of ten minutes: if a sender had to wait for it once, the test would time out.
  const paths = new Paths({ replayBufferBytes: MIN_REPLAY_BUFFER_BYTES, lazyAckDelayMs: 600_000 });
  const { opener, acceptor } = await paths.open();
  const up = randomBytes(2 * 1024 * 1024 + 17);
  const down = randomBytes(1024 * 1024 + 5);
  const gotUp = drain(acceptor);
  const gotDown = drain(opener);
  const waits = await Promise.all([writeAll(opener, up, 16 * 1024), writeAll(acceptor, down, 16 * 1024)]);
  assert.ok(waits[0] > 0 && waits[1] > 0, `both writers waited for ACKs to free their replay buffers (${waits.join(', ')} waits)`);
  assert.equal((await gotUp).sha256, sha256(up));
  assert.equal((await gotDown).sha256, sha256(down));
  assert.equal(await closed(opener), undefined);
  assert.equal(await closed(acceptor), undefined);
});

test('a replay buffer below the smallest one is refused with a code, before anything is sent', () => {
  const refused = { code: ErrorCode.INVALID_ARGUMENT, message: `a replay buffer of 4096 bytes is below the smallest allowed, ${MIN_REPLAY_BUFFER_BYTES}` };
  assert.throws(() => checkResumableOptions({ replayBufferBytes: 4096 }), refused);
  const { session, messages } = recordingSession();
  assert.throws(() => ResumableStream.open(session, 'box', { replayBufferBytes: 4096 }), refused);
  assert.throws(() => checkResumableOptions({ replayBufferBytes: Number.NaN }), { code: ErrorCode.INVALID_ARGUMENT });
  assert.doesNotThrow(() => checkResumableOptions({}));
  assert.deepEqual(messages, []);
  session.destroy();
});
