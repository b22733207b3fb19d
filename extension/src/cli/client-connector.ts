import type { Tracing } from '@tether/relay';
import { version } from '../core/client-version.js';
import { Connector } from '../core/connector.js';
import type { RelayEndpoint } from '../core/endpoints.js';
import { webSocketFactory } from '../core/relay-session.js';
import { info } from './output.js';
import { poolOptions, relayEndpointsAndToken, resumableOptions } from './options.js';

// What `tether connect` and `tether proxy` build their connector with. Imported module by module,
// not through core/index.js: `tether proxy` starts once per ssh connection, and the barrel would
// load what a proxy never uses (ssh2, the host agent, the admin API) every time.

/** Tracing of `tether share`/`connect`/`proxy` (--otlp, OTEL_*; docs/tracing.md), or undefined: off, nothing loaded. */
export async function clientTracing(values: { otlp?: string }, announce = true): Promise<Tracing | undefined> {
  // Nothing asked for: the relay package (where tracing starts) is not even loaded.
  const env = process.env;
  if (values.otlp === undefined && !env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  const { startTracing } = await import('@tether/relay');
  const tracing = await startTracing({ otlp: values.otlp, serviceName: 'tether-cli', version: version() });
  if (tracing && announce) info(`Traces sent to ${tracing.url} (OTLP/HTTP)`);
  return tracing;
}

/** A Connector over every --relay given, with the pool and resume flags. */
export function clientConnector(
  values: Parameters<typeof relayEndpointsAndToken>[0] & Parameters<typeof poolOptions>[0],
  prefer: (endpoints: RelayEndpoint[]) => RelayEndpoint[] = (e) => e,
  tracing?: Tracing,
): { connector: Connector; relay: string; token: string } {
  const parsed = relayEndpointsAndToken(values);
  const token = parsed.token;
  const endpoints = prefer(parsed.endpoints);
  const connector = new Connector(webSocketFactory({ relay: endpoints[0].url, token }), {
    endpoints,
    pool: poolOptions(values),
    resumable: resumableOptions(values),
    tracer: tracing?.tracer,
  });
  return { connector, relay: endpoints[0].url, token };
}
