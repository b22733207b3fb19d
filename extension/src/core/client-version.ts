import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: string | undefined;

/**
 * The package's version: its package.json is beside the bundled extension.js/cli.js of the
 * .vsix, or two folders above dist/core (and dist/cli).
 */
export function version(): string {
  if (cached !== undefined) return cached;
  for (const dir of [__dirname, join(__dirname, '..', '..')]) {
    try {
      cached = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
      return cached;
    } catch {
      // Not there: the other layout.
    }
  }
  cached = 'unknown';
  return cached;
}

/** What a client says it is on its WebSocket upgrades (the relay's dashboard shows it per link). */
export function userAgent(): string {
  return `tether/${version()} node/${process.versions.node} ${process.platform}-${process.arch}`;
}
