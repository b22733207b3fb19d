/**
 * A scripted SSH agent on a Unix socket, for unit tests of discovery and forwarding. Not exported
 * from the package index. (Not named `test-*.ts`: node --test would run it.)
 */
import { once } from 'node:events';
import net from 'node:net';
import { AgentMessageReader, frameAgentMessage, SSH_AGENT_FAILURE, SSH_AGENT_IDENTITIES_ANSWER } from '../core/ssh/agent-client.js';

/** identities: answers every request with a list of `comments`; silent: never answers; close: hangs up; failure: SSH_AGENT_FAILURE. */
export type FakeAgentBehaviour = 'identities' | 'silent' | 'close' | 'failure';

export interface FakeAgent {
  path: string;
  /** Payloads received, in order. */
  requests: Buffer[];
  close(): Promise<void>;
}

function sshString(data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}

export function identitiesAnswer(comments: string[]): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(comments.length);
  const keys = comments.map((c) => Buffer.concat([sshString(Buffer.from(`blob-${c}`)), sshString(Buffer.from(c))]));
  return Buffer.concat([Buffer.from([SSH_AGENT_IDENTITIES_ANSWER]), count, ...keys]);
}

export async function startFakeAgent(path: string, behaviour: FakeAgentBehaviour, comments: string[] = ['key-1']): Promise<FakeAgent> {
  const requests: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const reader = new AgentMessageReader();
    socket.on('data', (chunk: Buffer) => {
      for (const request of reader.push(chunk)) {
        requests.push(request);
        if (behaviour === 'identities') socket.write(frameAgentMessage(identitiesAnswer(comments)));
        else if (behaviour === 'failure') socket.write(frameAgentMessage(Buffer.from([SSH_AGENT_FAILURE])));
        else if (behaviour === 'close') socket.destroy();
      }
    });
  });
  server.listen(path);
  await once(server, 'listening');
  return {
    path,
    requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
