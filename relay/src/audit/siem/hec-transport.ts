import http from 'node:http';
import https from 'node:https';
import type { SiemTransport } from './siem-transport.js';

export interface HecTarget {
  /** http(s)://HOST[:PORT][/PATH]; events go to PATH/services/collector/event (PATH usually empty). */
  url: string;
  token: string;
  /** PEM of the CA that signed the collector's certificate (default: the system's). */
  ca?: string;
  /** How long a request may take (default 10 s). */
  timeoutMs?: number;
}

/** The endpoint events are posted to, from the collector's base URL. */
export function hecEndpoint(url: string): URL {
  const base = new URL(url);
  if (!base.pathname.endsWith('/services/collector/event')) base.pathname = `${base.pathname.replace(/\/+$/, '')}/services/collector/event`;
  return base;
}

/**
 * Splunk's HTTP Event Collector: each batch is one POST of the events' JSON one after the other,
 * with `Authorization: Splunk TOKEN`; a 2xx answer acknowledges the batch, anything else fails it
 * (the forwarder retries it whole).
 */
export class HecTransport implements SiemTransport {
  private ok = false;
  private readonly endpoint: URL;
  private readonly agent: http.Agent;

  constructor(private readonly target: HecTarget) {
    this.endpoint = hecEndpoint(target.url);
    this.agent = this.endpoint.protocol === 'https:' ? new https.Agent({ keepAlive: true, ca: target.ca }) : new http.Agent({ keepAlive: true });
  }

  get connected(): boolean {
    return this.ok;
  }

  /** Each answer acknowledges its batch: nothing to lose between requests. */
  readonly connection = 0;

  send(messages: readonly Buffer[]): Promise<void> {
    const body = Buffer.concat(messages);
    const client = this.endpoint.protocol === 'https:' ? https : http;
    return new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        this.ok = false;
        reject(err);
      };
      const request = client.request(this.endpoint, {
        method: 'POST',
        agent: this.agent,
        timeout: this.target.timeoutMs ?? 10_000,
        headers: { authorization: `Splunk ${this.target.token}`, 'content-type': 'application/json', 'content-length': body.length },
      }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (text.length < 500) text += chunk;
        });
        response.on('error', fail);
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            this.ok = true;
            resolve();
          } else {
            fail(new Error(`the collector answered ${status}${text ? `: ${text.trim().slice(0, 200)}` : ''}`));
          }
        });
      });
      request.on('timeout', () => request.destroy(new Error(`no answer within ${this.target.timeoutMs ?? 10_000} ms`)));
      request.on('error', fail);
      request.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
