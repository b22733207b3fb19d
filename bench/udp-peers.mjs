// UDP roles of the UDP benchmark, one per process (bench/udp.mjs starts them):
//   node bench/udp-peers.mjs echo               every datagram back to where it came from
//   node bench/udp-peers.mjs forward PORT       a plain UDP forwarder to 127.0.0.1:PORT: one
//                                               connected socket per client address (as the
//                                               tunnel's flows), answers sent back to it
// Each prints the port it bound on stdout.
import dgram from 'node:dgram';

const BUFFER = 4 * 1024 * 1024;
const [role, upstream] = process.argv.slice(2);

const socket = dgram.createSocket('udp4');
socket.on('error', (err) => console.error(`${role}: ${err.message}`));
socket.bind(0, '127.0.0.1', () => {
  socket.setRecvBufferSize(BUFFER);
  socket.setSendBufferSize(BUFFER);
  console.log(socket.address().port);
});

if (role === 'echo') {
  socket.on('message', (m, rinfo) => socket.send(m, rinfo.port, rinfo.address));
} else if (role === 'forward') {
  const flows = new Map();
  socket.on('message', (m, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const toUpstream = dgram.createSocket('udp4');
      flow = { socket: toUpstream, held: [] };
      toUpstream.on('error', () => undefined);
      toUpstream.on('message', (answer) => socket.send(answer, rinfo.port, rinfo.address));
      const created = flow;
      toUpstream.connect(Number(upstream), '127.0.0.1', () => {
        toUpstream.setRecvBufferSize(BUFFER);
        toUpstream.setSendBufferSize(BUFFER);
        for (const held of created.held.splice(0)) toUpstream.send(held);
        created.held = undefined;
      });
      flows.set(key, flow);
    }
    // Held until its socket is connected.
    if (flow.held) flow.held.push(m);
    else flow.socket.send(m);
  });
} else {
  console.error('usage: udp-peers.mjs echo | forward PORT');
  process.exit(2);
}
