// A tiny stand-in for kube-apiserver, as far as its OIDC authenticator goes:
// every request needs `Authorization: Bearer <ID token>`, checked the way
// kube-apiserver's --oidc-* flags check it (go-oidc): discovery `issuer`
// equal to --issuer, JWS signature by a key from the issuer's jwks_uri,
// an asymmetric alg only, `iss`, `aud` contains --client-id, `exp` in the
// future, `nbf` not in the future, a string `sub` (the user name).
// Enough of the API answers for real kubectl: /version, /api, /api/v1,
// /apis and the namespaces list.
//
//   node apiserver.mjs --cert PEM --key PEM --issuer URL --client-id ID
//                      --ca PEM [--log FILE] [--required-claim NAME=VALUE]...
//
// --required-claim mirrors kube-apiserver's --oidc-required-claim; a claim
// that is an array (amr) passes when it contains VALUE.
// Prints `READY {"port":N,"url":"https://127.0.0.1:N"}` once it serves.
// The log (JSON lines) holds method, path, status, authorized, user and a
// rejection reason; never a token.

import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import {
  parse, need, requestLog, listenTls, ready, exitOnSignals,
} from './common.mjs';

const opts = parse({
  cert: { type: 'string' },
  key: { type: 'string' },
  issuer: { type: 'string' },
  'client-id': { type: 'string', default: 'kubectl' },
  ca: { type: 'string' },
  log: { type: 'string' },
  'required-claim': { type: 'string', multiple: true, default: [] },
  webhook: { type: 'string' },
});
need(opts, 'cert', 'key', 'issuer', 'ca');
const log = requestLog(opts.log);
const ca = fs.readFileSync(opts.ca);
const required = opts['required-claim'].map((kv) => {
  const i = kv.indexOf('=');
  if (i <= 0) {
    process.stderr.write('apiserver.mjs: --required-claim takes NAME=VALUE\n');
    process.exit(2);
  }
  return [kv.slice(0, i), kv.slice(i + 1)];
});

// RFC 7518 3.1 names -> how node:crypto verifies them.  No `none`, no HMAC:
// kube-apiserver accepts asymmetric algorithms only.
const ALGS = {
  RS256: { hash: 'sha256' },
  RS384: { hash: 'sha384' },
  RS512: { hash: 'sha512' },
  PS256: { hash: 'sha256', pss: 32 },
  PS384: { hash: 'sha384', pss: 48 },
  PS512: { hash: 'sha512', pss: 64 },
  ES256: { hash: 'sha256', ec: true },
  ES384: { hash: 'sha384', ec: true },
  ES512: { hash: 'sha512', ec: true },
};

function getJson(url) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, timeout: 5000 }, (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (c) => {
        size += c.length;
        if (size > 1 << 20) req.destroy(new Error('response too large'));
        else chunks.push(c);
      });
      res.on('end', () => {
        if (res.statusCode !== 200) {
          reject(new Error(`${url}: HTTP ${res.statusCode}`));
          return;
        }
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (e) {
          reject(new Error(`${url}: ${e.message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timeout`)));
    req.on('error', reject);
  });
}

// Keys by kid, fetched when a token names a kid we have not seen (as
// go-oidc's remote key set does), so an IdP that rotates keys still works.
let keys = new Map();
async function refreshKeys() {
  const disc = await getJson(`${opts.issuer}/.well-known/openid-configuration`);
  if (disc.issuer !== opts.issuer) throw new Error('discovery issuer differs from --issuer');
  const jwks = await getJson(disc.jwks_uri);
  const next = new Map();
  for (const jwk of jwks.keys ?? []) {
    if (jwk.use && jwk.use !== 'sig') continue;
    try {
      next.set(jwk.kid ?? '', { jwk, key: crypto.createPublicKey({ key: jwk, format: 'jwk' }) });
    } catch {
      // A key node cannot import is one no token can use.
    }
  }
  keys = next;
}

class Reject extends Error {}

function b64json(part, what) {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new Reject(`${what} is not base64url JSON`);
  }
}

// --webhook URL: authenticate as kube-apiserver does with
// --authentication-token-webhook-config-file and
// --authentication-token-webhook-version=v1: POST a TokenReview with the
// bearer token to URL (over TLS trusting --ca), and take status.user.
function tokenReview(token) {
  const body = JSON.stringify({
    apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token },
  });
  return new Promise((resolve, reject) => {
    const req = https.request(opts.webhook, {
      method: 'POST', ca, timeout: 10000,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        try {
          const tr = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
          if (tr.status?.authenticated !== true) {
            reject(new Reject(`webhook: ${tr.status?.error ?? 'not authenticated'}`));
            return;
          }
          resolve(tr.status.user.username);
        } catch (e) {
          reject(e instanceof Reject ? e : new Reject(`webhook: ${e.message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('webhook timeout')));
    req.on('error', (e) => reject(new Reject(`webhook: ${e.message}`)));
    req.end(body);
  });
}

async function authenticate(header) {
  if (opts.webhook) {
    const w = /^Bearer (\S+)$/.exec(header ?? '');
    if (!w) throw new Reject('no bearer token');
    return tokenReview(w[1]);
  }
  const m = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/.exec(header ?? '');
  if (!m) throw new Reject('no bearer token');
  const parts = m[1].split('.');
  if (parts.length !== 3) throw new Reject('not a compact JWS');
  const hdr = b64json(parts[0], 'header');
  const claims = b64json(parts[1], 'payload');
  const alg = ALGS[hdr.alg];
  if (!alg || !Object.hasOwn(ALGS, hdr.alg)) throw new Reject(`alg ${hdr.alg} not accepted`);

  const kid = hdr.kid ?? '';
  if (!keys.has(kid)) {
    try {
      await refreshKeys();
    } catch (e) {
      throw new Reject(`issuer keys unavailable: ${e.message}`);
    }
  }
  let entry = keys.get(kid);
  if (!entry && hdr.kid === undefined && keys.size === 1) [entry] = keys.values();
  if (!entry) throw new Reject('no key for kid');
  const { key, jwk } = entry;
  if (jwk.alg && jwk.alg !== hdr.alg) throw new Reject('alg does not match the key');
  if (key.asymmetricKeyType === 'rsa' && key.asymmetricKeyDetails.modulusLength < 2048) {
    throw new Reject('RSA key too small');
  }
  const vkey = { key };
  if (alg.ec) vkey.dsaEncoding = 'ieee-p1363';
  if (alg.pss) Object.assign(vkey, { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.pss });
  let good = false;
  try {
    good = crypto.verify(alg.hash, Buffer.from(`${parts[0]}.${parts[1]}`), vkey,
      Buffer.from(parts[2], 'base64url'));
  } catch {
    good = false;
  }
  if (!good) throw new Reject('bad signature');

  const now = Date.now() / 1000;
  if (claims.iss !== opts.issuer) throw new Reject('wrong iss');
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(opts['client-id'])) throw new Reject('wrong aud');
  if (typeof claims.exp !== 'number') throw new Reject('no exp');
  if (claims.exp <= now) throw new Reject('expired');
  if (typeof claims.nbf === 'number' && claims.nbf > now + 60) throw new Reject('not yet valid');
  if (typeof claims.sub !== 'string' || claims.sub === '') throw new Reject('sub is not a string');
  for (const [name, want] of required) {
    const v = claims[name];
    if (!(Array.isArray(v) ? v.includes(want) : v === want)) {
      throw new Reject(`required claim ${name} missing`);
    }
  }
  return claims.sub;
}

function status(code, reason, message) {
  return {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code,
  };
}

function answer(path, port) {
  const created = '2024-01-01T00:00:00Z';
  switch (path) {
    case '/version':
      return {
        major: '1',
        minor: '30',
        gitVersion: 'v1.30.0',
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: created,
        goVersion: 'go1.22.0',
        compiler: 'gc',
        platform: 'linux/amd64',
      };
    case '/api':
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }],
      };
    case '/apis':
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: [] };
    case '/api/v1':
      return {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [{
          name: 'namespaces',
          singularName: 'namespace',
          namespaced: false,
          kind: 'Namespace',
          verbs: ['get', 'list'],
          shortNames: ['ns'],
        }],
      };
    case '/api/v1/namespaces':
      return {
        kind: 'NamespaceList',
        apiVersion: 'v1',
        metadata: { resourceVersion: '1' },
        items: [{
          metadata: {
            name: 'default', uid: '00000000-0000-0000-0000-000000000001', resourceVersion: '1', creationTimestamp: created,
          },
          spec: { finalizers: ['kubernetes'] },
          status: { phase: 'Active' },
        }],
      };
    default:
      return null;
  }
}

const { server, port } = await listenTls(opts.cert, opts.key, async (req, res) => {
  const path = new URL(req.url, 'https://127.0.0.1').pathname;
  let code = 200;
  let body;
  const rec = { method: req.method, path, authorized: false };
  try {
    rec.user = await authenticate(req.headers.authorization);
    rec.authorized = true;
    body = req.method === 'GET' ? answer(path, port) : null;
    if (body === null) {
      code = 404;
      body = status(404, 'NotFound', 'the server could not find the requested resource');
    }
  } catch (e) {
    if (!(e instanceof Reject)) process.stderr.write(`apiserver: ${e.stack}\n`);
    rec.reason = e instanceof Reject ? e.message : 'internal error';
    code = 401;
    body = status(401, 'Unauthorized', 'Unauthorized');
  }
  rec.status = code;
  log(rec);
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
});

try {
  await refreshKeys();
} catch (e) {
  // kube-apiserver, too, starts without its issuer and retries later.
  process.stderr.write(`apiserver: issuer not reachable yet: ${e.message}\n`);
}
exitOnSignals(server);
ready({ port, url: `https://127.0.0.1:${port}` });
