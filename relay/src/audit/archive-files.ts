import { once } from 'node:events';
import { chmodSync, createWriteStream, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Retention's archive on disk: the records about to be pruned, as stored (one canonical JSON
 * line each, what `tether audit verify` reads), in `DIR/audit-FROM-TO.jsonl` (mode 0600),
 * written through a temporary file so a crash never leaves half an archive under its name.
 * Resolves to the file's name.
 */
export function archiveToFolder(dir: string): (from: number, to: number, lines: AsyncIterable<string>) => Promise<string> {
  return async (from, to, lines) => {
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const name = `audit-${from}-${to - 1}.jsonl`;
    const file = join(dir, name);
    const temporary = `${file}.tmp`;
    const out = createWriteStream(temporary, { mode: 0o600 });
    await new Promise<void>((resolve, reject) => {
      out.on('error', reject);
      (async () => {
        for await (const line of lines) if (!out.write(`${line}\n`)) await once(out, 'drain');
        out.end(resolve);
      })().catch(reject);
    });
    chmodSync(temporary, 0o600);
    renameSync(temporary, file);
    return name;
  };
}
