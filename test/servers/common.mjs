// Pieces the three test servers share: the command line, the request log
// and the READY line the harness waits for (test/lib.sh start_server).
//
// Only the READY line ever goes to stdout; everything else goes to stderr or
// the --log file, because the harness reads stdout through a fifo and keeps
// it open for the server's lifetime.

import fs from 'node:fs';
import https from 'node:https';
import { parseArgs } from 'node:util';

// parse(options): util.parseArgs in strict mode; a bad flag ends the process
// with a one-line message (exit 2), before anything listens.
export function parse(options) {
  try {
    return parseArgs({ options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    process.stderr.write(`${process.argv[1]}: ${e.message}\n`);
    process.exit(2);
  }
}

export function need(values, ...names) {
  for (const n of names) {
    if (values[n] === undefined) {
      process.stderr.write(`${process.argv[1]}: --${n} is required\n`);
      process.exit(2);
    }
  }
}

// A JSON-lines request log.  Appended synchronously so a test that has its
// HTTP answer in hand finds the line already written.
export function requestLog(file) {
  let fd = null;
  if (file) fd = fs.openSync(file, 'a', 0o600);
  return (record) => {
    if (fd === null) return;
    fs.writeSync(fd, `${JSON.stringify({ ...record, time: Date.now() / 1000 })}\n`);
  };
}

// Listen on a free loopback port with TLS; resolves to the server and port.
export function listenTls(certFile, keyFile, handler) {
  const server = https.createServer({
    cert: fs.readFileSync(certFile),
    key: fs.readFileSync(keyFile),
  }, handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port }));
  });
}

export function ready(info) {
  process.stdout.write(`READY ${JSON.stringify(info)}\n`);
}

// Stop cleanly on the harness's kill, so the log file is complete.
export function exitOnSignals(server) {
  for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => {
      server.closeAllConnections?.();
      process.exit(0);
    });
  }
}
