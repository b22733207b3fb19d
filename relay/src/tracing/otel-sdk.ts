import type { Tracer } from '@opentelemetry/api';
import { createError, ErrorCode } from '@tether/shared';

/** Tracing as started: a tracer, and a shutdown that sends what is still buffered. */
export interface Tracing {
  tracer: Tracer;
  /** Where spans go (the OTLP/HTTP traces URL). */
  url: string;
  /** Flushes the spans still buffered and stops; never rejects. */
  shutdown(): Promise<void>;
}

export interface TracingSettings {
  /** --otlp URL: the collector's base URL (`/v1/traces` is added) or its full traces URL. */
  otlp?: string;
  /** `tether-relay` or `tether-cli`; OTEL_SERVICE_NAME overrides it. */
  serviceName: string;
  /** Resource attributes, e.g. `tether.node.id`. */
  attributes?: Record<string, string>;
  version?: string;
  env?: NodeJS.ProcessEnv;
}

const TRACES_PATH = '/v1/traces';

/**
 * Where traces go, or undefined when tracing is off (the default): `--otlp URL`, else
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as it is), else OTEL_EXPORTER_OTLP_ENDPOINT (plus
 * `/v1/traces`), as the OpenTelemetry specification says. OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none keeps it off. INVALID_CONFIG for a URL that is not http(s).
 */
export function tracesUrl(otlp: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (otlp === undefined && ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true' || (env.OTEL_TRACES_EXPORTER ?? '').toLowerCase() === 'none')) return undefined;
  const [given, full, source] = otlp !== undefined
    ? [otlp, false, '--otlp']
    : env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
      ? [env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, true, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']
      : env.OTEL_EXPORTER_OTLP_ENDPOINT
        ? [env.OTEL_EXPORTER_OTLP_ENDPOINT, false, 'OTEL_EXPORTER_OTLP_ENDPOINT']
        : [undefined, false, ''];
  if (given === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw createError(ErrorCode.INVALID_CONFIG, `${source} must be an http:// or https:// URL of an OTLP/HTTP collector (e.g. http://127.0.0.1:4318), got ${JSON.stringify(given)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw createError(ErrorCode.INVALID_CONFIG, `${source} must be an http:// or https:// URL of an OTLP/HTTP collector (e.g. http://127.0.0.1:4318), got ${JSON.stringify(given)}`);
  }
  if (!full && !url.pathname.endsWith(TRACES_PATH)) url.pathname = url.pathname.replace(/\/*$/, '') + TRACES_PATH;
  return url.toString();
}

/**
 * Starts tracing when it is asked for, else resolves undefined without loading anything: the
 * SDK and the exporter are imported here, on demand, so a relay or client without tracing pays
 * nothing for them. Spans go in batches over OTLP/HTTP (JSON); OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER and OTEL_BSP_* are honoured by the SDK. Nothing is
 * registered globally: the tracer is handed to whoever makes spans.
 */
export async function startTracing(settings: TracingSettings): Promise<Tracing | undefined> {
  const env = settings.env ?? process.env;
  const url = tracesUrl(settings.otlp, env);
  if (url === undefined) return undefined;
  const [{ BasicTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { detectResources, envDetector, resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const resource = resourceFromAttributes({
    'service.name': settings.serviceName,
    ...(settings.version ? { 'service.version': settings.version } : {}),
    ...settings.attributes,
  }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new BasicTracerProvider({
    resource: env.OTEL_SERVICE_NAME ? resource.merge(resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME })) : resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  let stopped: Promise<void> | undefined;
  return {
    tracer: provider.getTracer('tether', settings.version),
    url,
    shutdown: () => (stopped ??= provider.shutdown().catch(() => undefined)),
  };
}
