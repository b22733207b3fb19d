import type { MuxSession } from '@tether/shared';

/**
 * Hands each datagram a session receives to the UDP flow it belongs to: a flow's datagrams carry
 * the id of its stream on that session. One listener per session, however many flows ride on it.
 */
export class FlowDemux<F> {
  private readonly sessions = new Map<MuxSession, { flows: Map<number, F>; listener: (id: number, payload: Buffer) => void }>();
  private readonly deliver: (flow: F, payload: Buffer) => void;
  private readonly unknown: () => void;

  /** `unknown`: a datagram for no flow of ours arrived (a late one, after its flow ended). */
  constructor(deliver: (flow: F, payload: Buffer) => void, unknown: () => void) {
    this.deliver = deliver;
    this.unknown = unknown;
  }

  add(session: MuxSession, id: number, flow: F): void {
    let entry = this.sessions.get(session);
    if (!entry) {
      const flows = new Map<number, F>();
      const listener = (flowId: number, payload: Buffer): void => {
        const found = flows.get(flowId);
        if (found === undefined) this.unknown();
        else this.deliver(found, payload);
      };
      entry = { flows, listener };
      this.sessions.set(session, entry);
      session.on('datagram', listener);
      session.once('close', () => this.detach(session));
    }
    entry.flows.set(id, flow);
  }

  delete(session: MuxSession, id: number): void {
    this.sessions.get(session)?.flows.delete(id);
  }

  /** Stops listening to every session. */
  close(): void {
    for (const session of [...this.sessions.keys()]) this.detach(session);
  }

  private detach(session: MuxSession): void {
    const entry = this.sessions.get(session);
    if (!entry) return;
    session.off('datagram', entry.listener);
    this.sessions.delete(session);
  }
}
