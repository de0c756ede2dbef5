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
//                     [--acr VALUE] [--profile NAME]
//
// --profile makes the stub answer as one identity provider does on the wire
// (see PROFILES below: issuer path, endpoint paths, discovery contents, the
// device answer's shape, the poll's statuses, PKCE, offline_access, refresh
// answers, claims), each quirk with the public source it comes from.  The
// default, generic, is the stub as it always was.
//
// --client-secret makes the client confidential: device authorization and
// token requests must then authenticate with HTTP Basic (RFC 6749 §2.3.1,
// id and secret form-encoded), and the log says `client_auth: "basic"` for
// each one that did.  Without it the client is public (client_id in the
// form, as before).  --issued-log appends every token the stub issues as
// JSON lines {kind, value}, as idp.mjs does, for the secret-hygiene tests.
// --acr puts an acr claim into the ID tokens (any bytes: the terminal tests
// give it control characters, as --sub may have).
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
  acr: { type: 'string' },
  profile: { type: 'string', default: 'generic' },
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

// Identity providers as they answer on the wire.  Every field is a quirk of
// that provider, with the public source it was taken from (collected for
// issue 11); what a field means:
//   issuerPath      the issuer's path after https://127.0.0.1:PORT
//   paths           endpoint paths under the issuer (device, token, revoke)
//   scopes          discovery scopes_supported
//   pkceMethods     discovery code_challenge_methods_supported (absent: none)
//   requirePkce     device authorization without an S256 challenge is refused
//   ignorePkce      the device endpoint reads no PKCE parameters
//   plainDefault    a challenge without a method is plain (RFC 7636 §4.3)
//   noRevocation    discovery has no revocation_endpoint
//   revocationAuth  discovery revocation_endpoint_auth_methods_supported
//   verificationUrl the device answer says verification_url, not _uri
//   noComplete      no verification_uri_complete
//   message         the device answer carries a human-readable message
//   pendingStatus   HTTP status of authorization_pending (default 400)
//   slowDownStatus  HTTP status of slow_down (default 400)
//   deniedError     the error code of a denial (default access_denied)
//   expiredThenInvalidGrant  expired_token once, then invalid_grant
//   rejectOfflineAccess  invalid_scope for a request with offline_access
//   refreshWithoutOffline  a refresh token even without offline_access
//   refreshNoIdToken       refresh answers carry no id_token
//   amr, acr        the ID token's claims (absent: none)
//   accessTokenAudience  access tokens are JWTs for this audience
// Refresh tokens come only with offline_access unless refreshWithoutOffline.
// The interval stays --interval (1 s in the tests) for every profile, to keep
// the suite fast: the absent and the odd interval have tests of their own.
const PROFILES = {
  generic: { amr: ['hwk', 'mfa'], refreshWithoutOffline: true },
  google: {
    // https://accounts.google.com/.well-known/openid-configuration:
    // scopes openid, email, profile only; PKCE plain and S256; a revocation
    // endpoint without auth methods; no amr or acr in claims_supported.
    scopes: ['openid', 'email', 'profile'],
    pkceMethods: ['plain', 'S256'],
    paths: { device: '/device/code', token: '/token', revoke: '/revoke' },
    // https://github.com/cli/oauth/pull/24
    verificationUrl: true,
    // https://github.com/pipacs/o2/pull/130 (no _complete; pending and
    // slow_down not as 400: the exact codes are unverified, 428 and 403
    // are what client code handles)
    noComplete: true,
    pendingStatus: 428,
    slowDownStatus: 403,
    // https://github.com/lukaszraczylo/traefikoidc/issues/44
    rejectOfflineAccess: true,
    // The device flow's token answer carries a refresh token without
    // offline_access (https://developers.google.com/identity/protocols/oauth2/limited-input-device;
    // the research marks this unverified against a live tenant).
    refreshWithoutOffline: true,
  },
  entra: {
    // https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc
    issuerPath: '/00000000-0000-4000-8000-000000000001/v2.0',
    paths: { device: '/oauth2/v2.0/devicecode', token: '/oauth2/v2.0/token' },
    // Recorded tenant discovery documents: offline_access listed, no
    // code_challenge_methods_supported, no revocation_endpoint.
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    noRevocation: true,
    // https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code:
    // a `message`, no verification_uri_complete, authorization_declined.
    message: true,
    noComplete: true,
    deniedError: 'authorization_declined',
    // https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference
    // and https://github.com/MicrosoftDocs/azure-docs/issues/85021: no amr
    // in v2 ID tokens.
  },
  okta: {
    // https://developer.okta.com/docs/guides/step-up-authentication/main/
    issuerPath: '/oauth2/default',
    // https://developer.okta.com/docs/guides/device-authorization-grant/main/
    paths: { device: '/v1/device/authorize', token: '/v1/token', revoke: '/v1/revoke' },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    // https://github.com/kubernetes/kubernetes/issues/36847
    refreshNoIdToken: true,
    // A custom authorization server's access tokens are JWTs for its
    // audience (https://developer.okta.com/docs/guides/step-up-authentication/main/
    // shows iss .../oauth2/default), which an API server can check with
    // --oidc-client-id api://default.
    accessTokenAudience: 'api://default',
    amr: ['pwd'],
    acr: 'urn:okta:loa:2fa:any',
  },
  keycloak: {
    // https://github.com/int128/kubelogin/issues/1470
    issuerPath: '/realms/k8s',
    paths: {
      device: '/protocol/openid-connect/auth/device',
      token: '/protocol/openid-connect/token',
      revoke: '/protocol/openid-connect/revoke',
    },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    pkceMethods: ['plain', 'S256'],
    // https://github.com/keycloak/keycloak/issues/9710: a client that
    // enforces PKCE refuses a device request without it.
    requirePkce: true,
  },
  dex: {
    // https://github.com/dexidp/dex/blob/ab64ed778070e983cbb10cfc07ea4bb397d14312/server/discovery/discovery.go:
    // offline_access always listed, PKCE S256 and plain, no revocation
    // endpoint, no amr or acr.
    paths: { device: '/device/code', token: '/token' },
    scopes: ['openid', 'email', 'groups', 'profile', 'offline_access'],
    pkceMethods: ['S256', 'plain'],
    noRevocation: true,
    // https://github.com/dexidp/dex/blob/fbcc76f779310be2f9cbd44d8fcdcfb9303913b1/server/deviceflowhandlers.go
    plainDefault: true,
    // https://github.com/dexidp/dex/pull/4204: 401 before v2.44.
    pendingStatus: 401,
  },
  auth0: {
    // https://auth0.com/docs/quickstart/native/device/interactive
    issuerPath: '/',
    paths: { device: '/oauth/device/code', token: '/oauth/token', revoke: '/oauth/revoke' },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    expiredThenInvalidGrant: true,
    // https://auth0.com/docs/mfa/guides/configure-step-up-web-apps
    amr: ['mfa'],
  },
  authentik: {
    // https://docs.goauthentik.io/providers/oauth2/ (the per-application
    // issuer form is unverified)
    issuerPath: '/application/o/kubectl/',
    paths: { device: '/device/', token: '/token/', revoke: '/revoke/' },
    scopes: ['openid', 'email', 'profile', 'offline_access'],
    // https://github.com/goauthentik/authentik/blob/0f238a93937197412c4c20cbf25f2e98b573f99c/authentik/providers/oauth2/views/device_backchannel.py:
    // the device endpoint reads only client_id and scope.
    ignorePkce: true,
    pkceMethods: ['plain', 'S256'],
    // https://github.com/goauthentik/authentik/blob/014e22c3d0949e6826125bb82525f4d1bbaa5c55/authentik/providers/oauth2/id_token.py
    amr: ['pwd', 'mfa'],
    acr: 'goauthentik.io/providers/oauth2/default',
  },
  zitadel: {
    // https://zitadel.com/apis/openidoauth/scopes
    paths: { device: '/oauth/v2/device_authorization', token: '/oauth/v2/token', revoke: '/oauth/v2/revoke' },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    // https://github.com/zitadel/zitadel/blob/22fdecf433680445a3dcb7426054579c9105ad5c/internal/api/oidc/amr.go
    amr: ['pwd', 'user', 'mfa'],
  },
  ping: {
    // PingAM: https://docs.pingidentity.com/pingam/8/am-oauth2/oauth2-device-flow.html
    // (pending as HTTP 403; code_challenge accepted on the device endpoint).
    issuerPath: '/as',
    paths: { device: '/device_authz.oauth2', token: '/token.oauth2', revoke: '/revoke_token.oauth2' },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    pkceMethods: ['S256'],
    pendingStatus: 403,
    // https://developer.pingidentity.com/pingone-api/foundations/authentication-concepts/authorization-and-authentication-by-application-type/native-and-single-page-applications.html
    // (acr is the sign-on policy's name; unverified in ID tokens)
    acr: 'Multi_Factor',
  },
};
const P = PROFILES[opts.profile];
if (!P) {
  process.stderr.write(`stub-idp.mjs: unknown profile ${opts.profile}\n`);
  process.exit(2);
}
const PATHS = {
  device: '/device/auth', token: '/token', revoke: '/revoke', ...P.paths,
};

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
  // The browser login: discovery has an authorization_endpoint whose GET
  // redirects at once to redirect_uri with a code and the state; the code's
  // ID token carries another login's nonce.
  'authcode_wrong_nonce',
  'http_500', 'malformed_json', 'huge_body', 'deeply_nested', // token endpoint
  'hang', // device authorization and token requests are never answered
  'hang_token', // device authorization works; token requests are never answered
  'no_device_code', // device authorization response without device_code
  'absurd_interval', // interval 100000000 and a negative expires_in
  'refresh_invalid_grant', // device flow ok, refresh answers invalid_grant
  'no_id_token_on_refresh', // refresh answer has no id_token
  'no_id_token', // device grant answer has no id_token (Zitadel before zitadel/oidc#500)
  'placeholder_issuer', // discovery's issuer holds {tenantid} (Entra common/organizations)
  'revocation_needs_secret', // revocation_endpoint_auth_methods_supported: client_secret_basic only; revoke refuses a public client
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

function idToken(issuer, nonce) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: issuer, sub: opts.sub, aud: clientId, iat: now, exp: now + 600, auth_time: now,
  };
  if (nonce !== undefined) claims.nonce = nonce;
  if (P.amr) claims.amr = P.amr;
  if (P.acr) claims.acr = P.acr;
  if (opts.acr !== undefined) claims.acr = opts.acr;
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
const deviceCodes = new Map(); // device_code -> { polls, offline, challenge, method }
const refreshTokens = new Map(); // refresh token -> { offline }

function tokenResponse(issuer, { refresh, offline }) {
  const body = {
    access_token: P.accessTokenAudience ? accessJwt(issuer) : random(), token_type: 'Bearer', expires_in: 600,
    scope: offline ? 'openid offline_access' : 'openid',
  };
  if (offline || P.refreshWithoutOffline) {
    body.refresh_token = random();
    refreshTokens.set(body.refresh_token, { offline });
  }
  if (!(refresh && (scenario === 'no_id_token_on_refresh' || P.refreshNoIdToken))
    && !(!refresh && scenario === 'no_id_token')) body.id_token = idToken(issuer);
  if (body.refresh_token) noteIssued('refresh_token', body.refresh_token);
  noteIssued('access_token', body.access_token);
  if (body.id_token) noteIssued('id_token', body.id_token);
  return body;
}

function accessJwt(issuer) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: issuer, sub: opts.sub, aud: P.accessTokenAudience, cid: clientId, iat: now, exp: now + 600, jti: random(8),
  };
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: rsa.kid })}.${b64(claims)}`;
  return `${input}.${sign('RS256', rsa.privateKey, input).toString('base64url')}`;
}

// RFC 7636 §4.6: does the verifier answer the challenge?
function pkceOk(dc, verifier) {
  if (!dc.challenge) return verifier === null || !P.plainDefault;
  if (verifier === null) return false;
  const got = dc.method === 'S256'
    ? crypto.createHash('sha256').update(verifier).digest('base64url') : verifier;
  return got === dc.challenge;
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

function deviceAuthorization(issuer, form, client, rec) {
  if (!clientOk(client)) return oauthError('invalid_client', 401);
  const scopes = (form.get('scope') ?? '').split(' ');
  const offline = scopes.includes('offline_access');
  let challenge = form.get('code_challenge');
  let method = form.get('code_challenge_method');
  Object.assign(rec, { scope: form.get('scope'), pkce: challenge ? (method ?? 'none') : 'absent' });
  if (P.rejectOfflineAccess && offline) {
    return {
      status: 400,
      json: { error: 'invalid_scope', error_description: 'Some requested scopes were invalid. {invalid=[offline_access]}' },
    };
  }
  if (P.ignorePkce) {
    challenge = null;
  } else if (challenge) {
    method ??= P.plainDefault ? 'plain' : 'S256';
  }
  if (P.requirePkce && (!challenge || method !== 'S256')) {
    return { status: 400, json: { error: 'invalid_request', error_description: 'Missing parameter: code_challenge_method' } };
  }
  const deviceCode = random();
  const letters = () => Array.from({ length: 4 }, () => 'BCDFGHJKLMNPQRSTVWXZ'[crypto.randomInt(20)]).join('');
  const userCode = `${letters()}-${letters()}`;
  deviceCodes.set(deviceCode, {
    polls: 0, offline, challenge, method,
  });
  const json = {
    device_code: deviceCode,
    user_code: userCode,
    verification_uri: `${issuer}/device`,
    verification_uri_complete: `${issuer}/device?user_code=${userCode}`,
    expires_in: 600,
    interval,
  };
  if (P.verificationUrl) {
    json.verification_url = json.verification_uri;
    delete json.verification_uri;
  }
  if (P.noComplete) delete json.verification_uri_complete;
  if (P.message) json.message = `To sign in, use a web browser to open the page ${issuer}/device and enter the code ${userCode} to authenticate.`;
  if (scenario === 'no_device_code') delete json.device_code;
  if (scenario === 'escape_user_code') json.user_code = '\u001b[2J\u001b]0;owned\u0007BCDF-GHJK';
  if (scenario === 'escape_verification_uri') json.verification_uri = `${issuer}/device\u001b[2J`;
  if (scenario === 'absurd_interval') Object.assign(json, { interval: 100000000, expires_in: -1 });
  return { status: 200, json, answer: 'device_code' };
}

function token(issuer, form, client, rec) {
  if (!clientOk(client)) return oauthError('invalid_client', 401);
  const hostile = hostileBody();
  if (hostile) return { ...hostile, answer: scenario };
  const grant = form.get('grant_type');
  if (grant === 'urn:ietf:params:oauth:grant-type:device_code') {
    const dc = deviceCodes.get(form.get('device_code') ?? '');
    rec.verifier = form.has('code_verifier');
    if (!dc) return oauthError('invalid_grant');
    if (!pkceOk(dc, form.get('code_verifier'))) {
      return { status: 400, json: { error: 'invalid_grant', error_description: 'PKCE verification failed' } };
    }
    dc.polls += 1;
    switch (scenario) {
      case 'slow_down':
        if (dc.polls <= 2) return oauthError('slow_down', P.slowDownStatus ?? 400);
        break;
      case 'access_denied':
        return oauthError(P.deniedError ?? 'access_denied');
      case 'expired_token':
        // Auth0: expired_token once, invalid_grant after.
        if (P.expiredThenInvalidGrant && dc.polls > 1) return oauthError('invalid_grant');
        return oauthError(scenario);
      case 'server_error':
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
        if (dc.polls === 1) return oauthError('authorization_pending', P.pendingStatus ?? 400);
    }
    deviceCodes.delete(form.get('device_code'));
    return { status: 200, json: tokenResponse(issuer, { refresh: false, offline: dc.offline }), answer: 'tokens' };
  }
  if (grant === 'authorization_code' && scenario === 'authcode_wrong_nonce') {
    if (!authCodes.delete(form.get('code') ?? '')) return oauthError('invalid_grant');
    const body = tokenResponse(issuer, { refresh: false, offline: false });
    body.id_token = idToken(issuer, 'another-logins-nonce');
    return { status: 200, json: body, answer: 'tokens' };
  }
  if (grant === 'refresh_token') {
    const rt = form.get('refresh_token') ?? '';
    const held = refreshTokens.get(rt);
    if (!held || scenario === 'refresh_invalid_grant'
      || scenario === 'refresh_invalid_grant_denied') return oauthError('invalid_grant');
    return { status: 200, json: tokenResponse(issuer, { refresh: true, offline: held.offline }), answer: 'tokens' };
  }
  return oauthError('unsupported_grant_type');
}

let issuer = '';
const authCodes = new Set(); // authcode_wrong_nonce's codes, single use
// The abstract route of a path under the issuer: /device/auth, /token and
// /revoke stand for the profile's own paths, so the scenarios below hold
// for every profile.
const issuerPath = (P.issuerPath ?? '').replace(/\/$/, '');
function routeOf(raw) {
  const path = raw.replace(/\/{2,}/g, '/');
  if (!path.startsWith(`${issuerPath}/`)) return path;
  const rel = path.slice(issuerPath.length);
  if (rel === PATHS.device) return '/device/auth';
  if (rel === PATHS.token) return '/token';
  if (rel === PATHS.revoke && !P.noRevocation) return '/revoke';
  if (Object.values(PATHS).includes(rel)) return `${rel}#profile`; // another profile's path
  return rel;
}
const { server, port } = await listenTls(opts.cert, opts.key, async (req, res) => {
  // Not new URL(): a path starting "//" (an issuer ending in "/" with a
  // path appended) would read as a host.
  const path = req.url.split('?')[0];
  const rel = routeOf(path);
  const rec = { method: req.method, path, scenario };
  if (opts.profile !== 'generic') rec.endpoint = rel;
  let out;
  try {
    const form = req.method === 'POST' ? await readForm(req) : new URLSearchParams();
    if (rel === '/token' && req.method === 'POST') rec.grant_type = form.get('grant_type');
    if (req.method === 'POST') rec.client_auth = clientOf(req, form).method;
    const route = `${req.method} ${rel}`;
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
              ? 'http://192.0.2.1/device/auth' : `${base}${PATHS.device}`,
            token_endpoint: scenario === 'endpoint_downgrade' ? 'http://192.0.2.1/token' : `${base}${PATHS.token}`,
            jwks_uri: `${base}/jwks`,
            revocation_endpoint: `${base}${PATHS.revoke}`,
            response_types_supported: ['code'],
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'],
            grant_types_supported: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
            scopes_supported: P.scopes ?? ['openid', 'offline_access'],
            token_endpoint_auth_methods_supported: ['none'],
          },
        };
        if (P.pkceMethods) out.json.code_challenge_methods_supported = P.pkceMethods;
        if (P.noRevocation) delete out.json.revocation_endpoint;
        if (P.revocationAuth) out.json.revocation_endpoint_auth_methods_supported = P.revocationAuth;
        if (scenario === 'revocation_needs_secret') out.json.revocation_endpoint_auth_methods_supported = ['client_secret_basic'];
        if (scenario === 'placeholder_issuer') out.json.issuer = `https://127.0.0.1:${port}/{tenantid}/v2.0`;
        if (scenario === 'no_device_endpoint') delete out.json.device_authorization_endpoint;
        if (scenario === 'authcode_wrong_nonce') out.json.authorization_endpoint = `${base}/auth`;
        break;
      case 'GET /auth': {
        const q = new URL(req.url, 'https://stub.invalid').searchParams;
        const code = crypto.randomBytes(16).toString('hex');
        authCodes.add(code);
        const to = new URL(q.get('redirect_uri') ?? 'http://127.0.0.1:1/');
        to.searchParams.set('code', code);
        to.searchParams.set('state', q.get('state') ?? '');
        out = { status: 302, type: 'text/plain', body: '', location: to.href, answer: 'code' };
        break;
      }
      case 'GET /jwks': {
        const keys = [publicJwk(rsa), publicJwk(ec)];
        if (scenario === 'weak_rsa') keys.push(publicJwk(weakKey()));
        if (scenario === 'wrong_curve') keys.push(publicJwk(p384Key()));
        if (scenario === 'ps256') keys.push(publicJwk(pssKey()));
        out = { status: 200, json: { keys } };
        break;
      }
      case 'POST /device/auth':
        out = deviceAuthorization(issuer, form, clientOf(req, form), rec);
        break;
      case 'POST /token':
        out = token(issuer, form, clientOf(req, form), rec);
        break;
      case 'POST /revoke':
        if (scenario === 'revocation_needs_secret' && clientOf(req, form).method !== 'basic') {
          out = oauthError('invalid_client', 401);
          break;
        }
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
    ...(out.location ? { Location: out.location } : {}),
  });
  res.end(body);
});
// The issuer as configured (Auth0's and Authentik's end in a slash), and
// the base the endpoints hang from.
const base = `https://127.0.0.1:${port}${issuerPath}`;
issuer = `${base}${(P.issuerPath ?? '').endsWith('/') ? '/' : ''}`;
exitOnSignals(server);
ready({ port, issuer });
