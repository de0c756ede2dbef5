// The real IdP for the end-to-end tests: npm oidc-provider with the device
// authorization grant (RFC 8628), on https://127.0.0.1:<free port>.
//
// One public client (no secret) may use the device flow and refresh tokens,
// and the authorization code grant with PKCE to a loopback redirect URI
// (test/servers/browser-login.sh drives that login's pages).
// devInteractions takes any login name, which becomes the ID token's `sub`;
// test/components/servers.sh approve_device drives its pages with curl.
//
//   node idp.mjs --cert PEM --key PEM [--log FILE] [--id-token-ttl SECONDS]
//                [--client-id ID] [--amr V[,V...]] [--acr VALUE] [--no-refresh]
//                [--interval N] [--issued-log FILE] [--issuer URL]
//
// --issued-log appends every refresh token and ID token it issues, one JSON
// line each, so that the secret-hygiene tests can grep everything the
// plugin wrote for them.  Test material only: a real IdP tells nobody.
//
// --amr takes a comma-separated list: the ID token's amr array.
// --issuer names the URL clients use when that is not where it listens
// (bench/rttproxy.mjs in front of it).
//
// GET /__test/control?cache_control=V&validators=etag|last-modified|none
// &jwks_pad=N&rotate_key=PEM-FILE&close=0|1 (any subset) changes, for the
// cache tests (e2e/coldpath.sh), the caching headers the discovery document
// and the JWKS go out with (and whether If-None-Match / If-Modified-Since
// get a 304), pads the JWKS with N bytes, signs from now on with the key in
// PEM-FILE (the JWKS then lists it first, then the old one), or closes
// every connection after its answer.  204 once in effect.  The request log
// names each request's connection (client port) and whether its TLS
// session was resumed.  Test material only.
// Prints `READY {"port":N,"issuer":"https://127.0.0.1:N"}` once it serves.

import crypto from 'node:crypto';
import fs from 'node:fs';
import Provider from 'oidc-provider';
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';
import {
  parse, need, requestLog, listenTls, ready, exitOnSignals,
} from './common.mjs';

const opts = parse({
  cert: { type: 'string' },
  key: { type: 'string' },
  log: { type: 'string' },
  'id-token-ttl': { type: 'string', default: '300' },
  'client-id': { type: 'string', default: 'kubectl' },
  amr: { type: 'string' },
  acr: { type: 'string' },
  'no-refresh': { type: 'boolean', default: false },
  interval: { type: 'string', default: '1' },
  'issued-log': { type: 'string' },
  'signing-key': { type: 'string' },
  issuer: { type: 'string' },
});
need(opts, 'cert', 'key');
const idTokenTtl = Number.parseInt(opts['id-token-ttl'], 10);
const interval = Number.parseInt(opts.interval, 10);
if (!(idTokenTtl > 0) || !(interval >= 0)) {
  process.stderr.write('idp.mjs: --id-token-ttl and --interval take whole seconds\n');
  process.exit(2);
}
const log = requestLog(opts.log);
// Start-up progress on stderr ($T/idp.log), to tell where a slow start went.
const t0 = process.hrtime.bigint();
const progress = (what) => process.stderr.write(
  `idp: ${what} after ${Number((process.hrtime.bigint() - t0) / 1000000n)} ms\n`,
);

// A fresh signing key per run; nothing is pasted in.  --signing-key takes
// one made by openssl for each IdP (servers.sh start_idp): a start
// was once seen to stall for over 30 s inside Node's RSA key generation.
const privateKey = opts['signing-key']
  ? crypto.createPrivateKey(fs.readFileSync(opts['signing-key']))
  : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const jwk = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomBytes(8).toString('hex'),
  use: 'sig',
  alg: 'RS256',
};

// The issuer URL needs the port, so listen first and attach the provider's
// handler once it exists; nothing can connect before READY is printed.
progress('signing key made');
const { server, port } = await listenTls(opts.cert, opts.key);
progress(`listening on ${port}`);
const issuer = opts.issuer ?? `https://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: opts['client-id'],
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token',
      'authorization_code'],
    // The browser login (RFC 8252): a native client, so that oidc-provider
    // takes these loopback redirect URIs with any port (§7.3); a public
    // client, so that it demands PKCE (S256 only, its default).
    application_type: 'native',
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/', 'http://[::1]/', 'http://localhost/'],
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  // acr and amr come with the openid scope, so ID tokens carry them without
  // a `claims` request parameter (they are absent when not set at login).
  claims: {
    sid: null, auth_time: null, iss: null, openid: ['sub', 'acr', 'amr'],
  },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
  },
  // The default already requires the refresh_token grant and a granted
  // offline_access scope; --no-refresh turns refresh tokens off entirely.
  issueRefreshToken: async (_ctx, client, code) => !opts['no-refresh']
    && client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
  ttl: {
    AccessToken: idTokenTtl,
    IdToken: idTokenTtl,
    DeviceCode: 600,
    RefreshToken: 24 * 3600,
    Grant: 24 * 3600,
    Session: 3600,
    Interaction: 600,
  },
});

// Make the login carry amr/acr when asked; devInteractions itself sets
// neither.  oidc-provider copies them from the session into every ID token
// of the grant, refreshed ones included.
const interactionResult = provider.interactionResult.bind(provider);
provider.interactionResult = (req, res, result, options) => {
  if (result?.login) {
    if (opts.amr !== undefined) result.login.amr = opts.amr.split(',');
    if (opts.acr !== undefined) result.login.acr = opts.acr;
  }
  return interactionResult(req, res, result, options);
};

provider.use(async (ctx, next) => {
  try {
    await next();
  } finally {
    // Path without the query string: a user code is no one's business here.
    const rec = { method: ctx.method, path: ctx.path, status: ctx.status };
    // Which connection, and whether its TLS session was resumed (coldpath.sh).
    rec.conn = ctx.req.socket.remotePort;
    rec.resumed = ctx.req.socket.isSessionReused?.() ?? false;
    if (ctx.method === 'POST' && ctx.path === '/token') {
      rec.grant_type = ctx.oidc?.params?.grant_type ?? null;
    }
    // Which account the client asked for (--oidc-login-hint): the
    // several-accounts tests check that it arrives.
    if (ctx.method === 'POST' && ctx.path === '/device/auth') {
      rec.login_hint = ctx.oidc?.params?.login_hint ?? null;
    }
    log(rec);
  }
  // oidc-provider sends no `interval` in the device authorization response
  // (clients then default to 5 s, RFC 8628 3.2); tests want it short.
  if (ctx.path === '/device/auth' && ctx.status === 200 && ctx.body
      && typeof ctx.body === 'object') {
    ctx.body = { ...ctx.body, interval };
  }
});

// The cache tests' controls (see the header).
const meta = { cacheControl: null, validators: 'none', pad: 0, changed: new Date() };
provider.use(async (ctx, next) => {
  await next();
  if (ctx.status !== 200 || !['/.well-known/openid-configuration', '/jwks'].includes(ctx.path)) return;
  if (meta.cacheControl) ctx.set('Cache-Control', meta.cacheControl);
  if (ctx.path === '/jwks' && meta.pad > 0) ctx.body = { ...ctx.body, pad: 'x'.repeat(meta.pad) };
  const tag = `"${crypto.createHash('sha256').update(JSON.stringify(ctx.body)).digest('hex').slice(0, 16)}"`;
  const lm = meta.changed.toUTCString();
  let same = false;
  if (meta.validators === 'etag') { ctx.set('ETag', tag); same = ctx.get('If-None-Match') === tag; }
  if (meta.validators === 'last-modified') { ctx.set('Last-Modified', lm); same = ctx.get('If-Modified-Since') === lm; }
  if (same) { ctx.body = null; ctx.status = 304; }
});
const control = (req, res) => {
  const q = new URL(req.url, issuer).searchParams;
  if (q.has('cache_control')) meta.cacheControl = q.get('cache_control') || null;
  if (q.has('validators')) meta.validators = q.get('validators');
  if (q.has('close')) meta.close = q.get('close') === '1';
  if (q.has('jwks_pad')) meta.pad = Number.parseInt(q.get('jwks_pad'), 10) || 0;
  if (q.has('rotate_key')) {
    const k = crypto.createPrivateKey(fs.readFileSync(q.get('rotate_key')));
    const next = {
      ...k.export({ format: 'jwk' }), kid: crypto.randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256',
    };
    initializeKeystore.call(provider, { keys: [next, jwk] });
    meta.changed = new Date(Math.max(Date.now(), meta.changed.getTime() + 1000));
  }
  log({ method: req.method, path: '/__test/control', status: 204 });
  res.writeHead(204).end();
};

// Issued secrets, for the hygiene tests (see the header).
if (opts['issued-log']) {
  const fs = await import('node:fs');
  const note = (kind, value) => fs.appendFileSync(opts['issued-log'],
    `${JSON.stringify({ kind, value })}\n`, { mode: 0o600 });
  provider.on('grant.success', (ctx) => {
    const b = ctx.body;
    if (b && b.refresh_token) note('refresh_token', b.refresh_token);
    if (b && b.id_token) note('id_token', b.id_token);
    if (b && b.access_token) note('access_token', b.access_token);
  });
}

provider.on('server_error', (_ctx, err) => process.stderr.write(`server_error: ${err.stack}\n`));

const handler = provider.callback();
server.on('request', (req, res) => {
  if (req.url.startsWith('/__test/control?')) return control(req, res);
  if (meta.close) res.setHeader('Connection', 'close');
  return handler(req, res);
});
exitOnSignals(server);
progress('ready');
ready({ port, issuer });
