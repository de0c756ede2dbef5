// An independent check of a compact JWS against a JWKS, with Node's own
// crypto, for the stub IdP's self-test (test/e2e/servers_stub.sh): a
// scenario that claims "one flipped signature bit" must give a token that
// fails to verify and verifies once that bit is flipped back, so that the
// plugin's refusal of it is known to be a refusal of that one bit.
//
//   node jws-check.mjs JWKS_FILE < TOKEN
//
// Prints one JSON line: {"alg", "kid", "verifies", "verifies_with_middle_bit_flipped"}
// (the bit flipped is the low bit of the signature's middle byte, where
// stub-idp.mjs flips it).  RS256, PS256 and ES256 only; exit 2 on anything
// it cannot judge (no key for the kid, another alg, a malformed token).

import crypto from 'node:crypto';
import fs from 'node:fs';

function fail(why) {
  process.stderr.write(`jws-check.mjs: ${why}\n`);
  process.exit(2);
}

if (process.argv.length !== 3) fail('usage: node jws-check.mjs JWKS_FILE < TOKEN');
const jwks = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const token = fs.readFileSync(0, 'utf8').trim();
const parts = token.split('.');
if (parts.length !== 3) fail(`${parts.length} parts, not 3`);
const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
const jwk = (jwks.keys ?? []).find((k) => k.kid === header.kid);
if (!jwk) fail(`no key for kid ${header.kid}`);
const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
const input = Buffer.from(`${parts[0]}.${parts[1]}`);

function verifies(sig) {
  switch (header.alg) {
    case 'RS256': return crypto.verify('sha256', input, key, sig);
    case 'PS256': return crypto.verify('sha256', input, {
      key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32,
    }, sig);
    case 'ES256': return crypto.verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, sig);
    default: return fail(`alg ${header.alg}`);
  }
}

const sig = Buffer.from(parts[2], 'base64url');
const flipped = Buffer.from(sig);
flipped[flipped.length >> 1] ^= 0x01;
process.stdout.write(`${JSON.stringify({
  alg: header.alg,
  kid: header.kid,
  verifies: verifies(sig),
  verifies_with_middle_bit_flipped: verifies(flipped),
})}\n`);
