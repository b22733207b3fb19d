import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createError, ErrorCode } from '@tether/shared';

/** The browsers tried, in order, on PATH; TETHER_CHROMIUM names one explicitly. */
const BROWSERS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** The headless Chromium to print with, or undefined. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TETHER_CHROMIUM) return env.TETHER_CHROMIUM;
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of BROWSERS) {
      const path = join(dir, name);
      try {
        accessSync(path, constants.X_OK);
        return path;
      } catch {
        // Not there: the next.
      }
    }
  }
  return undefined;
}

/**
 * Prints `html` to the PDF file `out` with headless Chromium (A4, no header or footer: the page's
 * own print CSS lays it out). The HTML and the browser profile live in a private temporary
 * folder, removed after. A coded error when no Chromium is found or it fails.
 */
export async function renderPdf(html: string, out: string, { timeoutMs = 120_000, env = process.env } = {}): Promise<void> {
  const chromium = findChromium(env);
  if (!chromium) throw createError(ErrorCode.PDF_RENDER_FAILED, 'a PDF needs headless Chromium and none was found on PATH (chromium, chromium-browser, google-chrome): install it (apt install chromium), name it with TETHER_CHROMIUM=PATH, or use --format html and print that');
  const work = mkdtempSync(join(tmpdir(), 'tether-report-'));
  try {
    const page = join(work, 'report.html');
    writeFileSync(page, html, { mode: 0o600 });
    const args = [
      '--headless=new',
      // The sandbox needs user namespaces, which containers and CI runners often lack; the page
      // is our own, script-free (its CSP forbids scripts) and loads nothing from the network.
      '--no-sandbox',
      '--disable-gpu',
      '--no-pdf-header-footer',
      '--no-first-run',
      '--disable-extensions',
      `--user-data-dir=${join(work, 'profile')}`,
      `--print-to-pdf=${out}`,
      pathToFileURL(page).href,
    ];
    const { code, stderr } = await new Promise<{ code: number | string | null; stderr: string }>((resolve) => {
      const child = spawn(chromium, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let text = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        text = (text + chunk).slice(-4000);
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve({ code: err.code ?? 'error', stderr: err.message });
      });
      child.once('close', (exit, signal) => {
        clearTimeout(timer);
        resolve({ code: exit ?? signal, stderr: text });
      });
    });
    let size = 0;
    try {
      size = statSync(out).size;
    } catch {
      // No file: reported below.
    }
    if (code !== 0 || size === 0) {
      // Chromium's stderr is mostly noise (D-Bus); its last line is what helps.
      const last = stderr.trim().split('\n').filter((l) => !/dbus|Fontconfig/i.test(l)).at(-1) ?? '';
      throw createError(ErrorCode.PDF_RENDER_FAILED, `${chromium} did not print the PDF (exit ${String(code)}${last ? `: ${last.slice(0, 300)}` : ''}); use --format html and print that, or check the browser runs headless`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
