// Preloaded into `tether proxy` by bench/ssh.mjs (NODE_OPTIONS=--import): when the process
// exits, appends "PID CPU-SECONDS" (user + system) to $BENCH_CPU_FILE. ssh may or may not wait
// for its ProxyCommand, so the proxy's CPU cannot be read from the reaped children's times.
import { appendFileSync } from 'node:fs';

const file = process.env.BENCH_CPU_FILE;
if (file) {
  process.on('exit', () => {
    const { user, system } = process.cpuUsage();
    appendFileSync(file, `${process.pid} ${(user + system) / 1e6}\n`);
  });
}
