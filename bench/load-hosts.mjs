// Idle tunnels for bench/normal-load.mjs, run as its own process:
//   node bench/load-hosts.mjs RELAY_URL TOKEN COUNT TARGET_PORT
// holds COUNT host agents (the extension's HostAgent, what `tether share` runs), tunnels idle-0 …
// idle-(COUNT-1), each registered with the relay over its own WebSocket with the default
// settings (so each pings the relay as a real `tether share` does). Nothing connects to them;
// TARGET_PORT need not listen. Prints "ready COUNT" on stdout once every one is registered, then
// "disconnected N" for each link lost later, and runs until SIGTERM.
import extension from '@tether/extension';

const { HostAgent, webSocketFactory } = extension;
const [url, token, countText, portText] = process.argv.slice(2);
const count = Number(countText);
const factory = webSocketFactory({ relay: url, token });
const agents = [];
let lost = 0;

// 50 registrations at a time: a thousand upgrades at once would measure the start, not the load.
for (let i = 0; i < count; i += 50) {
  const batch = [];
  for (let j = i; j < Math.min(count, i + 50); j++) {
    const agent = new HostAgent({ tunnel: `idle-${j}`, target: { host: '127.0.0.1', port: Number(portText) }, factory });
    agent.on('disconnected', () => process.stdout.write(`disconnected ${++lost}\n`));
    agent.on('error', (err) => process.stderr.write(`idle-${j}: ${err.message}\n`));
    agents.push(agent);
    batch.push(agent.start());
  }
  await Promise.all(batch);
}
process.stdout.write(`ready ${agents.length}\n`);
setInterval(() => undefined, 1 << 30);
process.on('SIGTERM', () => process.exit(0));
