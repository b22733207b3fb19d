// Bundles the admin dashboard (lit pages, uPlot charts, their CSS) into the folder the relay
// serves at /admin: relay/dist/dashboard/index.html and content-hashed files in assets/.
// Usage: node dashboard/build.mjs [OUTDIR]
import { build } from 'esbuild';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(process.argv[2] ?? join(here, '..', 'relay', 'dist', 'dashboard'));

await rm(outdir, { recursive: true, force: true });
await mkdir(join(outdir, 'assets'), { recursive: true });
const result = await build({
  entryPoints: { main: join(here, 'src', 'main.ts') },
  outdir: join(outdir, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});

const outputs = Object.entries(result.metafile.outputs).filter(([, o]) => o.entryPoint !== undefined || o.cssBundle !== undefined);
const js = outputs.map(([file]) => file).find((f) => f.endsWith('.js'));
const css = Object.keys(result.metafile.outputs).find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`dashboard build: no bundle written (${Object.keys(result.metafile.outputs).join(', ')})`);

// No inline script or style: the CSP allows only the relay's own files.
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Tether relay admin</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/admin/assets/${basename(css)}">
<script type="module" src="/admin/assets/${basename(js)}"></script>
</head>
<body>
<tether-admin></tether-admin>
<noscript>The Tether admin dashboard needs JavaScript.</noscript>
</body>
</html>
`;
await writeFile(join(outdir, 'index.html'), html);
console.log(`dashboard: ${join(outdir, 'index.html')}, ${basename(js)}, ${basename(css)}`);
