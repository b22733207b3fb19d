import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package's version: its package.json is beside the bundled cli.js of the .vsix, or two folders above dist/cli. */
export function version(): string {
  for (const dir of [__dirname, join(__dirname, '..', '..')]) {
    try {
      return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      // Not there: the other layout.
    }
  }
  return 'unknown';
}
