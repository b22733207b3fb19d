// Bundles the VS Code extension (extension.js) and the tether CLI (cli.js) into one folder,
// each a single CommonJS file with ws and ssh2 inside: the .vsix carries no node_modules.
// Usage: node extension/esbuild.mjs OUTDIR [--watch]
import { build, context } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Optional natives, left out on purpose. Each is loaded inside try/catch by its package, which
 * then falls back to JavaScript: ws without bufferutil/utf-8-validate, ssh2 without
 * cpu-features and its own sshcrypto.node binding, and the CLI without koffi keeps ssh's pipes
 * (cli/pipe-capacity.ts) and glibc's allocator (cli/malloc-tuning.ts) as they are.
 */
const optionalNatives = {
  name: 'optional-natives',
  setup(b) {
    b.onResolve({ filter: /^(bufferutil|utf-8-validate|cpu-features|koffi)$|sshcrypto\.node$/ }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * The CLI loads @tether/relay (and pino-pretty, its log format) only for `tether relay`; the
 * relay (fastify, SQLite) is not part of the extension, so that one subcommand says so instead
 * of failing to load a module.
 */
const noRelay = {
  name: 'no-relay',
  setup(b) {
    b.onResolve({ filter: /^(@tether\/relay|pino-pretty)$/ }, () => ({ path: 'relay', namespace: 'no-relay' }));
    b.onLoad({ filter: /.*/, namespace: 'no-relay' }, () => ({
      contents: [
        "function notBundled() { throw new Error('tether relay is not bundled with the VS Code extension: run it from the Tether repository (npx tether relay)'); }",
        'export const startRelay = notBundled;',
        // Read by `tether relay` before it starts one; nothing to add where there is no relay.
        'export const RELAY_NODE_FLAGS = [];',
        'export default notBundled;',
      ].join('\n'),
      loader: 'js',
    }));
  },
};

export function options(outdir) {
  return {
    entryPoints: { extension: join(here, 'src/vscode/extension.ts'), cli: join(here, 'src/cli/main.ts') },
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // No source maps in the package: they would double its size for stack traces we log as text.
    sourcemap: false,
    minifySyntax: true,
    external: ['vscode'],
    plugins: [optionalNatives, noRelay],
    logLevel: 'warning',
    // ssh2 requires its native binding inside try/catch; that is expected, not a problem.
    logOverride: { 'require-resolve-not-external': 'silent' },
  };
}

/**
 * The webviews (webview/src: browser code, with @vscode-elements/elements and lit inside) into
 * OUTDIR/webview, which the extension loads with webview.asWebviewUri (its only local resource root).
 */
export function webviewOptions(outdir) {
  return {
    entryPoints: { sharing: join(here, '../webview/src/sharing.ts'), diagnostics: join(here, '../webview/src/diagnostics.ts') },
    outdir: join(outdir, 'webview'),
    bundle: true,
    platform: 'browser',
    target: 'chrome120',
    format: 'iife',
    sourcemap: false,
    minify: true,
    // Nothing is fetched at run time: no remote content, as the panel's CSP requires.
    logLevel: 'warning',
    legalComments: 'none',
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = resolve(process.argv[2] ?? join(here, 'dist-vsix'));
  if (process.argv.includes('--watch')) {
    const contexts = [await context(options(outdir)), await context(webviewOptions(outdir))];
    await Promise.all(contexts.map((ctx) => ctx.watch()));
    console.error(`esbuild: watching, writing to ${outdir}`);
  } else {
    await Promise.all([build(options(outdir)), build(webviewOptions(outdir))]);
    console.error(`esbuild: wrote ${outdir}/extension.js, ${outdir}/cli.js and ${outdir}/webview/{sharing,diagnostics}.js`);
  }
}
