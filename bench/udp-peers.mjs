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
      flow = dgram.createSocket('udp4');
      flow.on('error', () => undefined);
      flow.on('message', (answer) => socket.send(answer, rinfo.port, rinfo.address));
      flow.connect(Number(upstream), '127.0.0.1', () => {
        flow.setRecvBufferSize(BUFFER);
        flow.setSendBufferSize(BUFFER);
      });
      flows.set(key, flow);
    }
    // Before its connect completes, a send goes once it has.
    flow.send(m);
  });
} else {
  console.error('usage: udp-peers.mjs echo | forward PORT');
  process.exit(2);
}
