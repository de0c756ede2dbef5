// A loopback TCP proxy that adds a fixed round-trip time, for the latency
// case of the benchmark (bench/latency.sh): every chunk, in each direction,
// is held for RTT/2 before it is passed on, in order, so a request that
// needs N round trips takes at least N x RTT.  It sees only TCP and the
// TLS record layer and counts, one JSON line each in --log as it happens:
//   {"ev":"conn","c":N,"rtt":MS,"t":MS}   a connection (one TCP round trip)
//   {"ev":"hello","c":N,"psk":B,"t":MS}   a TLS ClientHello; psk: it offers
//                                         a session to resume
//   {"ev":"rt","c":N,"sent":MS,"t":MS}    a client flight that the server
//                                         answered: one round trip, sent
//                                         when the flight began
// Times are milliseconds since the epoch (fractional).  Lines are written
// before the data they describe is passed on, so once a client has its
// answer the line is in the log.
//
//   node rttproxy.mjs --upstream-file FILE --log FILE
// Listens on a free port on 127.0.0.1 and prints `READY {"port":N}`.  FILE
// holds "UPSTREAM-PORT RTT-MS" and is read at each connection, so the
// proxy can be started before the server it fronts (whose URLs must name
// the proxy), and a baseline without the added RTT can run in between.
// A measuring instrument for the benchmark, not part of the product.

import fs from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    'upstream-file': { type: 'string' },
    log: { type: 'string' },
  },
  strict: true,
});
if (!opts['upstream-file'] || !opts.log) {
  process.stderr.write('usage: rttproxy.mjs --upstream-file FILE --log FILE\n');
  process.exit(2);
}
const fd = fs.openSync(opts.log, 'a', 0o600);
const now = () => performance.timeOrigin + performance.now();
const note = (rec) => fs.writeSync(fd, `${JSON.stringify({ ...rec, t: now() })}\n`);

// Whether a ClientHello (the first client bytes) offers a pre_shared_key
// (extension 41): a TLS 1.3 resumption.  Returns null when buf is not one.
function helloPsk(buf) {
  if (buf.length < 43 || buf[0] !== 0x16 || buf[5] !== 0x01) return null;
  let p = 5 + 4 + 2 + 32; // record and handshake headers, version, random
  p += 1 + buf[p]; // session id
  if (p + 2 > buf.length) return false;
  p += 2 + buf.readUInt16BE(p); // cipher suites
  if (p + 1 > buf.length) return false;
  p += 1 + buf[p]; // compression methods
  if (p + 2 > buf.length) return false;
  const end = Math.min(buf.length, p + 2 + buf.readUInt16BE(p));
  p += 2;
  while (p + 4 <= end) {
    const type = buf.readUInt16BE(p);
    if (type === 41) return true;
    p += 4 + buf.readUInt16BE(p + 2);
  }
  return false;
}

let nconn = 0;
const server = net.createServer({ noDelay: true }, (client) => {
  const c = ++nconn;
  const [port, rtt] = fs.readFileSync(opts['upstream-file'], 'utf8').trim().split(/\s+/).map(Number);
  const half = rtt / 2;
  note({ ev: 'conn', c, rtt });
  const up = net.connect({ host: '127.0.0.1', port, noDelay: true });
  let first = true;
  let flight = null; // when the unanswered client flight began
  let ended = false; // the client sent FIN: it waits for nothing more
  // Each direction passes chunks on in order, each no sooner than RTT/2
  // after it came.  The client's first chunk waits a whole RTT more: the
  // proxy's kernel completed the TCP handshake at once, where over the
  // real path the client could send nothing before the SYN-ACK came back.
  const lane = () => {
    const q = [];
    const pump = () => {
      while (q.length > 0 && q[0].due <= now()) q.shift().fn();
      if (q.length > 0) setTimeout(pump, q[0].due - now());
    };
    return (fn, extra = 0) => {
      const due = Math.max(now() + half + extra, q.length > 0 ? q[q.length - 1].due : 0);
      q.push({ due, fn });
      if (q.length === 1) setTimeout(pump, due - now());
    };
  };
  const toUp = lane();
  const toClient = lane();
  client.on('data', (d) => {
    let extra = 0;
    if (first) {
      first = false;
      extra = 2 * half;
      const psk = helloPsk(d);
      if (psk !== null) note({ ev: 'hello', c, psk });
    }
    if (flight === null) flight = now();
    toUp(() => up.write(d), extra);
  });
  up.on('data', (d) => {
    // An answer to what the client sent as it left (a TLS close_notify)
    // is no round trip: nobody waited for it.
    if (flight !== null && !ended) {
      note({ ev: 'rt', c, sent: flight });
      flight = null;
    }
    toClient(() => client.write(d));
  });
  client.on('end', () => { ended = true; toUp(() => up.end()); });
  up.on('end', () => toClient(() => client.end()));
  const kill = () => { client.destroy(); up.destroy(); };
  client.on('error', kill);
  up.on('error', kill);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`READY ${JSON.stringify({ port: server.address().port })}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
