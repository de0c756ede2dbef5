// bench/webhook.mjs URL CA TOKEN N CONC: POST N TokenReviews for TOKEN to
// the webhook at URL over keep-alive TLS connections (CONC at a time) and
// print one JSON line: requests per second, p50/p99 latency in ms, and how
// many were authenticated.
import fs from 'node:fs';
import https from 'node:https';

const [url, caFile, token, nArg, concArg] = process.argv.slice(2);
const n = Number(nArg);
const conc = Number(concArg);
const ca = fs.readFileSync(caFile);
const agent = new https.Agent({ keepAlive: true, maxSockets: conc, ca });
const body = JSON.stringify({
  apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token },
});

function one() {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = https.request(url, {
      method: 'POST', agent, headers: { 'Content-Type': 'application/json' },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const tr = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        resolve({ ms, ok: tr.status?.authenticated === true });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Warm the connections first, as kube-apiserver's are.
await Promise.all(Array.from({ length: conc }, one));
const lat = [];
let authenticated = 0;
let next = 0;
const t0 = process.hrtime.bigint();
async function worker() {
  while (next < n) {
    next += 1;
    const r = await one();
    lat.push(r.ms);
    if (r.ok) authenticated += 1;
  }
}
await Promise.all(Array.from({ length: conc }, worker));
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
console.log(JSON.stringify({
  n: lat.length, conc, rps: Math.round(lat.length / secs),
  p50_ms: Number(q(0.5).toFixed(3)), p99_ms: Number(q(0.99).toFixed(3)), authenticated,
}));
agent.destroy();
