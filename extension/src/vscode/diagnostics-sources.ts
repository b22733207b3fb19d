import type { ConnectionPath, DiagnosticsModel, DiagnosticsView, PoolView } from '../core/index.js';
import { poolView } from '../core/index.js';
import type { Connections } from './connections.js';
import type { Sharing } from './sharing.js';

/** Where the diagnostics panel and the exported bundle read the pools and connections as they are now. */
export class DiagnosticsSources {
  constructor(
    readonly model: DiagnosticsModel,
    private readonly connections: Connections,
    private readonly sharing: Sharing,
  ) {}

  pools(): PoolView[] {
    return [...this.connections.diagnosticPools(), ...this.sharing.diagnosticPools()].map((p) => poolView(p.label, p.state, p.rtt));
  }

  /** The connections, with a throughput sample taken when the model is sampling. */
  connectionPaths(): ConnectionPath[] {
    return this.model.connections(this.connections.diagnosticConnections());
  }

  view(): DiagnosticsView {
    return this.model.view(this.pools(), this.connectionPaths());
  }
}
