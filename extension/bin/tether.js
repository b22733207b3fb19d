#!/usr/bin/env node
// Committed launcher: npm links bins before `prepare` builds dist/, so the link must point at
// a file that exists (and is executable) in a fresh clone.
try {
  require('../dist/cli/main.js');
} catch (err) {
  // A clone linked onto the PATH (`npm install -g .`) before it was built.
  if (err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes('dist/cli/main.js')) throw err;
  process.stderr.write(`tether: not built yet: run 'npm ci' (or 'npx tsc -b') in ${require('node:path').resolve(__dirname, '../..')}\n`);
  process.exit(1);
}
