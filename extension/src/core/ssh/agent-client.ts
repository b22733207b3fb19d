/**
 * The few pieces of the SSH agent protocol (draft-miller-ssh-agent) that Tether speaks itself:
 * message framing, and one request/response round trip with a timeout (used to probe an agent
 * before choosing it). Works on Unix sockets and Windows named pipes alike (`net.connect(path)`).
 */
import net from 'node:net';
import { createError, ErrorCode, type TetherError } from '@tether/shared';

export const SSH_AGENT_FAILURE = 5;
export const SSH_AGENTC_REQUEST_IDENTITIES = 11;
export const SSH_AGENT_IDENTITIES_ANSWER = 12;
/** OpenSSH's AGENT_MAX_LEN: a longer message is a broken or hostile peer. */
const AGENT_MAX_MESSAGE = 256 * 1024;

/** `uint32 length || payload`. */
export function frameAgentMessage(payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return Buffer.concat([header, payload]);
}

/** The one-byte SSH_AGENT_FAILURE reply, framed. */
export const AGENT_FAILURE_REPLY = frameAgentMessage(Buffer.from([SSH_AGENT_FAILURE]));

/**
 * Splits a byte stream into agent messages (payloads without the length). Throws a coded error
 * for an empty or oversized message, after which the stream cannot be trusted.
 */
export class AgentMessageReader {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const messages: Buffer[] = [];
    while (this.buffered.length >= 4) {
      const length = this.buffered.readUInt32BE(0);
      if (length === 0 || length > AGENT_MAX_MESSAGE) {
        throw createError(ErrorCode.PROTOCOL_ERROR, `agent message of ${length} bytes (allowed: 1 to ${AGENT_MAX_MESSAGE})`);
      }
      if (this.buffered.length < 4 + length) break;
      messages.push(this.buffered.subarray(4, 4 + length));
      this.buffered = this.buffered.subarray(4 + length);
    }
    return messages;
  }
}

/**
 * Sends one request on a fresh connection to the agent at `path` and resolves with the reply's
 * payload. Rejects with TETHER_ERR_TIMEOUT when no full reply arrives within `timeoutMs`, and
 * TETHER_ERR_NOT_FOUND when the socket cannot be reached, TETHER_ERR_CONNECTION_LOST when it hangs up.
 */
/** Why an agent socket could not be opened, in words (an errno alone is not a sentence). */
export function socketProblem(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such socket';
    case 'ECONNREFUSED':
      return 'nothing listens on it (the agent has exited)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTSOCK':
      return 'it is not a socket';
    default:
      return err.code ?? err.message;
  }
}

function agentRequest(path: string, payload: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    const reader = new AgentMessageReader();
    let done = false;
    const finish = (err: TetherError | undefined, reply?: Buffer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(reply as Buffer);
    };
    const timer = setTimeout(() => finish(createError(ErrorCode.TIMEOUT, `agent at ${path} did not answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => socket.write(frameAgentMessage(payload)));
    socket.on('data', (chunk: Buffer) => {
      try {
        const [reply] = reader.push(chunk);
        if (reply) finish(undefined, reply);
      } catch (err) {
        finish(err as TetherError);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish(createError(ErrorCode.NOT_FOUND, `cannot reach the agent at ${path}: ${socketProblem(err)}`)));
    socket.on('close', () => finish(createError(ErrorCode.CONNECTION_LOST, `agent at ${path} closed the connection without answering`)));
  });
}

export interface AgentProbe {
  /** Number of keys the agent holds (0 is a working agent too). */
  keys: number;
  /** Their comments, as the agent reports them. */
  comments: string[];
}

/** Connects and asks for the agent's identities (SSH_AGENTC_REQUEST_IDENTITIES), within `timeoutMs`. */
export async function probeAgent(path: string, timeoutMs: number): Promise<AgentProbe> {
  const reply = await agentRequest(path, Buffer.from([SSH_AGENTC_REQUEST_IDENTITIES]), timeoutMs);
  if (reply[0] !== SSH_AGENT_IDENTITIES_ANSWER || reply.length < 5) {
    throw createError(ErrorCode.PROTOCOL_ERROR, `agent at ${path} answered the identities request with message type ${reply[0]}`);
  }
  const keys = reply.readUInt32BE(1);
  const comments: string[] = [];
  let at = 5;
  const readString = (): Buffer => {
    if (at + 4 > reply.length) throw createError(ErrorCode.PROTOCOL_ERROR, `agent at ${path} sent a truncated identities list`);
    const length = reply.readUInt32BE(at);
    const end = at + 4 + length;
    if (end > reply.length) throw createError(ErrorCode.PROTOCOL_ERROR, `agent at ${path} sent a truncated identities list`);
    const value = reply.subarray(at + 4, end);
    at = end;
    return value;
  };
  for (let i = 0; i < keys; i++) {
    readString(); // key blob
    comments.push(readString().toString('utf8'));
  }
  return { keys, comments };
}
