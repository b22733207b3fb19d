// Preloaded into `tether proxy` by bench/ssh.mjs (NODE_OPTIONS=--require): when the process
// exits, appends "PID CPU-SECONDS" (user + system) to $BENCH_CPU_FILE. ssh may or may not wait
// for its ProxyCommand, so the proxy's CPU cannot be read from the reaped children's times.
// CommonJS on purpose: an --import preload makes Node load the entry point through its ESM
// loader, which runs cjs-module-lexer over it (on the 1.5 MB bundled CLI: +175 ms of CPU).
const { appendFileSync } = require('node:fs');

const file = process.env.BENCH_CPU_FILE;
if (file) {
  process.on('exit', () => {
    const { user, system } = process.cpuUsage();
    appendFileSync(file, `${process.pid} ${(user + system) / 1e6}\n`);
  });
}
