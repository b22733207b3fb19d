// A plain TCP forwarder, run as its own process: `node bench/forwarder.mjs UPSTREAM_PORT`.
// It listens on 127.0.0.1:0, prints its port on stdout, and joins every connection to
// 127.0.0.1:UPSTREAM_PORT with pipe() both ways (Nagle off on both sockets, half-close kept).
// Three of them in a chain are the benchmark's floor for a five-process path: the same process
// hops as the tunnel, with none of its framing, multiplexing or flow control.
import net from 'node:net';
import { serveAndAnnounce } from './io.mjs';

const upstreamPort = Number(process.argv[2]);
if (!Number.isInteger(upstreamPort) || upstreamPort <= 0 || upstreamPort > 65535) {
  process.stderr.write('usage: node bench/forwarder.mjs UPSTREAM_PORT\n');
  process.exit(2);
}

const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
  const upstream = net.connect({ port: upstreamPort, host: '127.0.0.1', noDelay: true, allowHalfOpen: true });
  // A failure on either side (reset, refused upstream) ends both: nothing is left half-open.
  const abort = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', abort);
  upstream.on('error', abort);
  // pipe() ends the other side's writable when one side's readable ends: a FIN travels on
  // while the opposite direction keeps flowing (allowHalfOpen on both sockets).
  client.pipe(upstream);
  upstream.pipe(client);
});

serveAndAnnounce(server, 'forwarder');
