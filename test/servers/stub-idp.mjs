// A hostile stub IdP: the things a real IdP (idp.mjs) will not do on
// request.  It speaks just enough OIDC discovery, JWKS, device authorization
// (RFC 8628), token (device_code and refresh_token grants) and revocation
// (RFC 7009) for the plugin to reach the behaviour under test, chosen by a
// scenario.  Approval is implicit: the device flow succeeds on the second
// poll, so there is no login page.
//
//   node stub-idp.mjs --cert PEM --key PEM --scenario NAME [--client-id ID]
//                     [--log FILE] [--interval N] [--sub NAME]
//                     [--client-secret SECRET] [--issued-log FILE]
//
// --client-secret makes the client confidential: device authorization and
// token requests must then authenticate with HTTP Basic (RFC 6749 §2.3.1,
// id and secret form-encoded), and the log says `client_auth: "basic"` for
// each one that did.  Without it the client is public (client_id in the
// form, as before).  --issued-log appends every token the stub issues as
// JSON lines {kind, value}, as idp.mjs does, for the secret-hygiene tests.
//
// POST /control with the form body scenario=NAME switches the scenario at
// run time (a good login first, then a hostile refresh).  Prints
// `READY {"port":N,"issuer":"https://127.0.0.1:N"}` once it serves.
//
// The log has one JSON line per request: method, path, grant_type (token
// endpoint), the scenario in force, the status and what was answered
// (`answer`: authorization_pending, slow_down, tokens, hang, ...), and the
// time in epoch seconds; never a token or code.

import crypto from 'node:crypto';
import {
  parse, need, requestLog, listenTls, ready, exitOnSignals,
} from './common.mjs';

const opts = parse({
  cert: { type: 'string' },
  key: { type: 'string' },
  log: { type: 'string' },
  scenario: { type: 'string' },
  'client-id': { type: 'string', default: 'kubectl' },
  interval: { type: 'string', default: '1' },
  sub: { type: 'string', default: 'alice' },
  'client-secret': { type: 'string' },
  'issued-log': { type: 'string' },
});
need(opts, 'cert', 'key', 'scenario');
const log = requestLog(opts.log);
const clientId = opts['client-id'];
const interval = Number.parseInt(opts.interval, 10);
const clientSecret = opts['client-secret'];

// Who the client says it is: HTTP Basic when the request carries it, else
// the form's client_id.  { id, secret, method }.
function clientOf(req, form) {
  const h = req.headers.authorization ?? '';
  if (h.startsWith('Basic ')) {
    const plain = Buffer.from(h.slice(6), 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon < 0) return { id: null, secret: null, method: 'basic' };
    const dec = (v) => decodeURIComponent(v.replace(/\+/g, ' '));
    return { id: dec(plain.slice(0, colon)), secret: dec(plain.slice(colon + 1)), method: 'basic' };
  }
  return { id: form.get('client_id'), secret: null, method: 'none' };
}

// A confidential client must prove its secret; a public one sends none.
function clientOk(client) {
  if (client.id !== clientId) return false;
  if (clientSecret === undefined) return client.method === 'none';
  return client.method === 'basic' && client.secret !== null
    && crypto.timingSafeEqual(
      crypto.createHash('sha256').update(client.secret).digest(),
      crypto.createHash('sha256').update(clientSecret).digest(),
    );
}

let noteIssued = () => {};
if (opts['issued-log']) {
  const fs = await import('node:fs');
  noteIssued = (kind, value) => fs.appendFileSync(opts['issued-log'],
    `${JSON.stringify({ kind, value })}\n`, { mode: 0o600 });
}

// What each scenario changes.  Token-shaping scenarios apply to every ID
// token the stub issues, on the device grant and on refresh alike.
const SCENARIOS = new Set([
  'ok', // pending once, then a valid RS256 ID token (exp +10 min) and a refresh token
  'es256', // as ok, signed ES256 with the P-256 key
  'ps256', // as ok, signed PS256 with an RSA key the JWKS then publishes
  'slow_down', // slow_down twice, then tokens
  'access_denied', 'expired_token', // that RFC 8628 error on the first poll
  'unknown_error', // an error code no RFC defines, on the first poll
  'server_error', // error "server_error" (400), on the first poll
  'wrong_iss', 'wrong_aud', 'expired', 'bad_signature', 'alg_none',
  // aud near misses, for a verifier that compares less than the whole string:
  'aud_extends', // aud is the client id with more after it ("kubectl-evil")
  'aud_prefix', // aud is the client id less its last character ("kubect")
  'aud_near_misses', // aud is an array of near misses only: extended, cut, upper case, a leading space
  'hs256_with_public_key', 'unknown_kid', 'nbf_future', 'missing_exp',
  'non_string_sub', 'huge_payload', 'weak_rsa', 'amr_missing',
  'issuer_mismatch', // discovery names another issuer
  'no_device_endpoint', // discovery advertises no device_authorization_endpoint
  'http_500', 'malformed_json', 'huge_body', 'deeply_nested', // token endpoint
  'hang', // device authorization and token requests are never answered
  'hang_token', // device authorization works; token requests are never answered
  'no_device_code', // device authorization response without device_code
  'absurd_interval', // interval 100000000 and a negative expires_in
  'refresh_invalid_grant', // device flow ok, refresh answers invalid_grant
  'no_id_token_on_refresh', // refresh answer has no id_token
  // For the hostile-input matrix (test/e2e/hostile.sh):
  'wrong_curve', // ES256 header, signed (SHA-256) with a P-384 key the JWKS publishes as ES256
  'discovery_500', // the discovery document answers 500 with an HTML body
  'not_json', // token endpoint: 200 with an HTML body
  'truncated', // token endpoint: Content-Length promises more than is sent, then the connection closes
  'refresh_invalid_grant_denied', // refresh answers invalid_grant, the device flow access_denied
  'endpoint_downgrade', // discovery names plain-http endpoints on a non-loopback address
  // Terminal escapes and newlines for the plugin to print (it must not):
  'escape_user_code', // user_code holds ESC sequences (clear screen, set title)
  'escape_verification_uri', // verification_uri holds an ESC sequence
  'escape_error', // first poll: access_denied, error_description with ESC, CR and a forged line
]);
let scenario = opts.scenario;
if (!SCENARIOS.has(scenario)) {
  process.stderr.write(`stub-idp.mjs: unknown scenario ${scenario}\n`);
  process.exit(2);
}

// Keys made per run.  The 1024-bit and the unpublished key are made on
// first use; RSA generation is the slow part of starting.
const kid = (p) => `${p}-${crypto.randomBytes(4).toString('hex')}`;
const rsa = { ...crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }), kid: kid('rsa'), alg: 'RS256' };
const ec = { ...crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }), kid: kid('ec'), alg: 'ES256' };
let weak = null;
let pss = null;
let unpublished = null;
let p384 = null;
const weakKey = () => {
  weak ??= { ...crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }), kid: kid('weak'), alg: 'RS256' };
  return weak;
};
// Its own key, because the published RSA key's JWK pins alg RS256.
const pssKey = () => {
  pss ??= { ...crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }), kid: kid('pss'), alg: 'PS256' };
  return pss;
};
const unpublishedKey = () => {
  unpublished ??= { ...crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }), kid: kid('unknown'), alg: 'RS256' };
  return unpublished;
};
// The wrong curve for ES256 (RFC 7518 §3.4 pins P-256), under an ES256 JWK.
const p384Key = () => {
  p384 ??= { ...crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }), kid: kid('p384'), alg: 'ES256' };
  return p384;
};
const publicJwk = (k) => ({
  ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, alg: k.alg, use: 'sig',
});

const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const random = (n = 32) => crypto.randomBytes(n).toString('base64url');

function sign(alg, key, input) {
  switch (alg) {
    case 'RS256': return crypto.sign('sha256', Buffer.from(input), key);
    case 'PS256': return crypto.sign('sha256', Buffer.from(input), {
      key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32,
    });
    case 'ES256': return crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    default: throw new Error(alg);
  }
}

function idToken(issuer) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: issuer, sub: opts.sub, aud: clientId, iat: now, exp: now + 600, auth_time: now, amr: ['hwk', 'mfa'],
  };
  let key = rsa;
  let alg = 'RS256';
  switch (scenario) {
    case 'wrong_iss': claims.iss = 'https://127.0.0.1:1'; break;
    case 'wrong_aud': claims.aud = 'someone-else'; break;
    case 'aud_extends': claims.aud = `${clientId}-evil`; break;
    case 'aud_prefix': claims.aud = clientId.slice(0, -1); break;
    case 'aud_near_misses':
      claims.aud = [`${clientId}-evil`, clientId.slice(0, -1), clientId.toUpperCase(), ` ${clientId}`];
      break;
    case 'expired': Object.assign(claims, { iat: now - 7200, exp: now - 3600 }); break;
    case 'nbf_future': claims.nbf = now + 3600; break;
    case 'missing_exp': delete claims.exp; break;
    case 'non_string_sub': claims.sub = 12345; break;
    case 'huge_payload': claims.pad = 'x'.repeat(100 * 1024); break;
    case 'amr_missing': delete claims.amr; break;
    case 'weak_rsa': key = weakKey(); break;
    case 'unknown_kid': key = unpublishedKey(); break;
    case 'es256': key = ec; alg = 'ES256'; break;
    case 'ps256': key = pssKey(); alg = 'PS256'; break;
    case 'wrong_curve': key = p384Key(); alg = 'ES256'; break;
    default: break;
  }
  if (scenario === 'alg_none') {
    return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
  }
  if (scenario === 'hs256_with_public_key') {
    // The key-confusion attack: an HMAC keyed with the published RSA key,
    // for a verifier that lets the token choose the algorithm.
    const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: rsa.kid })}.${b64(claims)}`;
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
    return `${input}.${crypto.createHmac('sha256', pem).update(input).digest('base64url')}`;
  }
  const input = `${b64({ alg, typ: 'JWT', kid: key.kid })}.${b64(claims)}`;
  const sig = sign(alg, key.privateKey, input);
  if (scenario === 'bad_signature') sig[sig.length >> 1] ^= 0x01;
  return `${input}.${sig.toString('base64url')}`;
}

// Device codes and refresh tokens this stub issued.  Refresh tokens rotate
// on every use; an old one stays good (no reuse detection here).
const deviceCodes = new Map(); // device_code -> { polls, expires }
const refreshTokens = new Set();

function tokenResponse(issuer, { refresh }) {
  const rt = random();
  refreshTokens.add(rt);
  const body = {
    access_token: random(), token_type: 'Bearer', expires_in: 600, scope: 'openid offline_access', refresh_token: rt,
  };
  if (!(refresh && scenario === 'no_id_token_on_refresh')) body.id_token = idToken(issuer);
  noteIssued('refresh_token', body.refresh_token);
  noteIssued('access_token', body.access_token);
  if (body.id_token) noteIssued('id_token', body.id_token);
  return body;
}

// The hostile bodies, for answers a JSON parser must survive.
function hostileBody() {
  switch (scenario) {
    case 'http_500':
      return { status: 500, type: 'text/html', body: '<html><body>Internal Server Error</body></html>' };
    case 'malformed_json':
      return { status: 200, type: 'application/json', body: '{"access_token": "x", "id_token": "a.b' };
    case 'huge_body':
      return { status: 200, type: 'application/json', body: `{"error":"authorization_pending","pad":"${'x'.repeat(2 << 20)}"}` };
    case 'deeply_nested':
      return { status: 200, type: 'application/json', body: `{"id_token":${'['.repeat(100000)}${']'.repeat(100000)}}` };
    case 'not_json':
      return { status: 200, type: 'text/html', body: '<html><body>Welcome to nginx!</body></html>' };
    case 'truncated':
      return {
        status: 200, type: 'application/json', body: '{"access_token":"x","token_type":"Bearer","id_token":"eyJ', truncate: 4096,
      };
    default:
      return null;
  }
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(c);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const oauthError = (error, status = 400) => ({ status, json: { error, error_description: `stub: ${error}` } });

function deviceAuthorization(issuer, form, client) {
  if (!clientOk(client)) return oauthError('invalid_client', 401);
  const deviceCode = random();
  const letters = () => Array.from({ length: 4 }, () => 'BCDFGHJKLMNPQRSTVWXZ'[crypto.randomInt(20)]).join('');
  const userCode = `${letters()}-${letters()}`;
  deviceCodes.set(deviceCode, { polls: 0 });
  const json = {
    device_code: deviceCode,
    user_code: userCode,
    verification_uri: `${issuer}/device`,
    verification_uri_complete: `${issuer}/device?user_code=${userCode}`,
    expires_in: 600,
    interval,
  };
  if (scenario === 'no_device_code') delete json.device_code;
  if (scenario === 'escape_user_code') json.user_code = '\u001b[2J\u001b]0;owned\u0007BCDF-GHJK';
  if (scenario === 'escape_verification_uri') json.verification_uri = `${issuer}/device\u001b[2J`;
  if (scenario === 'absurd_interval') Object.assign(json, { interval: 100000000, expires_in: -1 });
  return { status: 200, json, answer: 'device_code' };
}

function token(issuer, form, client) {
  if (!clientOk(client)) return oauthError('invalid_client', 401);
  const hostile = hostileBody();
  if (hostile) return { ...hostile, answer: scenario };
  const grant = form.get('grant_type');
  if (grant === 'urn:ietf:params:oauth:grant-type:device_code') {
    const dc = deviceCodes.get(form.get('device_code') ?? '');
    if (!dc) return oauthError('invalid_grant');
    dc.polls += 1;
    switch (scenario) {
      case 'slow_down':
        if (dc.polls <= 2) return oauthError('slow_down');
        break;
      case 'access_denied': case 'expired_token': case 'server_error':
        return oauthError(scenario);
      case 'refresh_invalid_grant_denied':
        return oauthError('access_denied');
      case 'escape_error':
        return {
          status: 400,
          json: {
            error: 'access_denied',
            error_description: '\u001b[32mapproved\u001b[0m\r\nkubectl-mfa: logged in as admin\u001b]0;owned\u0007',
          },
        };
      case 'unknown_error':
        return oauthError('kmfa_unheard_of_error');
      default:
        if (dc.polls === 1) return oauthError('authorization_pending');
    }
    deviceCodes.delete(form.get('device_code'));
    return { status: 200, json: tokenResponse(issuer, { refresh: false }), answer: 'tokens' };
  }
  if (grant === 'refresh_token') {
    const rt = form.get('refresh_token') ?? '';
    if (!refreshTokens.has(rt) || scenario === 'refresh_invalid_grant'
      || scenario === 'refresh_invalid_grant_denied') return oauthError('invalid_grant');
    return { status: 200, json: tokenResponse(issuer, { refresh: true }), answer: 'tokens' };
  }
  return oauthError('unsupported_grant_type');
}

let issuer = '';
const { server, port } = await listenTls(opts.cert, opts.key, async (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  const rec = { method: req.method, path, scenario };
  let out;
  try {
    const form = req.method === 'POST' ? await readForm(req) : new URLSearchParams();
    if (path === '/token' && req.method === 'POST') rec.grant_type = form.get('grant_type');
    if (req.method === 'POST') rec.client_auth = clientOf(req, form).method;
    const route = `${req.method} ${path}`;
    const hangs = (scenario === 'hang' && (route === 'POST /device/auth' || route === 'POST /token'))
      || (scenario === 'hang_token' && route === 'POST /token');
    if (hangs) {
      // Accept and never answer; the connection stays open until the
      // client gives up or the stub is stopped.
      log({ ...rec, status: 0, answer: 'hang' });
      return;
    }
    switch (route) {
      case 'GET /.well-known/openid-configuration':
        if (scenario === 'discovery_500') {
          out = { status: 500, type: 'text/html', body: '<html><body>Bad Gateway</body></html>' };
          break;
        }
        out = {
          status: 200,
          json: {
            issuer: scenario === 'issuer_mismatch' ? `${issuer}/elsewhere` : issuer,
            device_authorization_endpoint: scenario === 'endpoint_downgrade'
              ? 'http://192.0.2.1/device/auth' : `${issuer}/device/auth`,
            token_endpoint: scenario === 'endpoint_downgrade' ? 'http://192.0.2.1/token' : `${issuer}/token`,
            jwks_uri: `${issuer}/jwks`,
            revocation_endpoint: `${issuer}/revoke`,
            response_types_supported: ['code'],
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'],
            grant_types_supported: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
            scopes_supported: ['openid', 'offline_access'],
            token_endpoint_auth_methods_supported: ['none'],
          },
        };
        if (scenario === 'no_device_endpoint') delete out.json.device_authorization_endpoint;
        break;
      case 'GET /jwks': {
        const keys = [publicJwk(rsa), publicJwk(ec)];
        if (scenario === 'weak_rsa') keys.push(publicJwk(weakKey()));
        if (scenario === 'wrong_curve') keys.push(publicJwk(p384Key()));
        if (scenario === 'ps256') keys.push(publicJwk(pssKey()));
        out = { status: 200, json: { keys } };
        break;
      }
      case 'POST /device/auth':
        out = deviceAuthorization(issuer, form, clientOf(req, form));
        break;
      case 'POST /token':
        out = token(issuer, form, clientOf(req, form));
        break;
      case 'POST /revoke':
        // RFC 7009 2.2: 200 whether or not the token was known.
        refreshTokens.delete(form.get('token') ?? '');
        out = { status: 200, type: 'text/plain', body: '' };
        break;
      case 'POST /control': {
        const next = form.get('scenario') ?? '';
        if (SCENARIOS.has(next)) {
          scenario = next;
          out = { status: 200, json: { scenario } };
        } else {
          out = { status: 400, json: { error: `unknown scenario ${next}` } };
        }
        break;
      }
      default:
        out = { status: 404, json: { error: 'not_found' } };
    }
  } catch (e) {
    process.stderr.write(`stub-idp: ${e.stack}\n`);
    out = { status: 400, json: { error: 'invalid_request' } };
  }
  log({
    ...rec, status: out.status, answer: out.answer ?? out.json?.error ?? undefined,
  });
  const body = out.json ? JSON.stringify(out.json) : out.body;
  if (out.truncate) {
    // Promise more than is sent, then drop the connection mid-body.
    res.writeHead(out.status, { 'Content-Type': out.type, 'Content-Length': out.truncate });
    res.write(body, () => res.destroy());
    return;
  }
  res.writeHead(out.status, {
    'Content-Type': out.json ? 'application/json' : out.type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
});
issuer = `https://127.0.0.1:${port}`;
exitOnSignals(server);
ready({ port, issuer });
