// The real IdP for the end-to-end tests: npm oidc-provider with the device
// authorization grant (RFC 8628), on https://127.0.0.1:<free port>.
//
// One public client (no secret) may use the device flow and refresh tokens.
// devInteractions takes any login name, which becomes the ID token's `sub`;
// test/components/servers.sh approve_device drives its pages with curl.
//
//   node idp.mjs --cert PEM --key PEM [--log FILE] [--id-token-ttl SECONDS]
//                [--client-id ID] [--amr V[,V...]] [--acr VALUE] [--no-refresh]
//                [--interval N] [--issued-log FILE]
//
// --issued-log appends every refresh token and ID token it issues, one JSON
// line each, so that the secret-hygiene tests can grep everything the
// plugin wrote for them.  Test material only: a real IdP tells nobody.
//
// --amr takes a comma-separated list: the ID token's amr array.
// Prints `READY {"port":N,"issuer":"https://127.0.0.1:N"}` once it serves.

import crypto from 'node:crypto';
import fs from 'node:fs';
import Provider from 'oidc-provider';
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
const issuer = `https://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: opts['client-id'],
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    // The device flow uses no authorization endpoint, so no response types
    // and no redirect URIs.
    response_types: [],
    redirect_uris: [],
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

server.on('request', provider.callback());
exitOnSignals(server);
progress('ready');
ready({ port, issuer });
