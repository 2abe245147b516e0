// Signature V3 (ACS3-HMAC-SHA256), exactly as the official SDKs sign an RPC call (sdk-wire.md §7.1):
// parameters in the query of a POST with an empty body. The server verifies it with the same code it
// uses for every SDK, so the console has no way in that an SDK does not have.
//
// WebCrypto does the hashing where the browser offers it (https, or http on localhost). Elsewhere —
// a console opened over plain http on a LAN address — crypto.subtle does not exist, and the small
// SHA-256 below is used instead; the browser tests check the two agree on random inputs.

const encoder = new TextEncoder();

export const ALGORITHM = 'ACS3-HMAC-SHA256';

/** RFC 3986 percent-encoding of the UTF-8 bytes: only A-Z a-z 0-9 - _ . ~ stay as they are. */
export function percentEncode(text) {
  let out = '';
  for (const b of encoder.encode(text)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** FIPS 180-4 SHA-256 of a byte array, for browsers without WebCrypto. */
export function sha256Fallback(bytes) {
  const length = bytes.length;
  const blocks = Math.ceil((length + 9) / 64);
  const padded = new Uint8Array(blocks * 64);
  padded.set(bytes);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
  view.setUint32(padded.length - 4, (length << 3) >>> 0);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let block = 0; block < blocks; block++) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(block * 64 + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    const next = [a, b, c, d, e, f, g, hh];
    for (let i = 0; i < 8; i++) h[i] = (h[i] + next[i]) >>> 0;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  h.forEach((value, i) => outView.setUint32(i * 4, value));
  return out;
}

/** RFC 2104 HMAC over {@link sha256Fallback}. */
export function hmacSha256Fallback(key, message) {
  let k = key.length > 64 ? sha256Fallback(key) : key;
  const padded = new Uint8Array(64);
  padded.set(k);
  const inner = new Uint8Array(64 + message.length);
  const outer = new Uint8Array(64 + 32);
  for (let i = 0; i < 64; i++) {
    inner[i] = padded[i] ^ 0x36;
    outer[i] = padded[i] ^ 0x5c;
  }
  inner.set(message, 64);
  outer.set(sha256Fallback(inner), 64);
  return sha256Fallback(outer);
}

const hex = bytes => Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');

const subtle = globalThis.isSecureContext ? globalThis.crypto?.subtle : undefined;

export async function sha256Hex(bytes, { forceFallback = false } = {}) {
  if (subtle && !forceFallback) return hex(new Uint8Array(await subtle.digest('SHA-256', bytes)));
  return hex(sha256Fallback(bytes));
}

export async function hmacSha256Hex(keyBytes, messageBytes, { forceFallback = false } = {}) {
  // WebCrypto refuses an empty HMAC key; RFC 2104 does not.
  if (subtle && !forceFallback && keyBytes.length > 0) {
    const key = await subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    return hex(new Uint8Array(await subtle.sign('HMAC', key, messageBytes)));
  }
  return hex(hmacSha256Fallback(keyBytes, messageBytes));
}

function nonce() {
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  return hex(bytes);
}

/**
 * Signs one call. `parameters` is a list of [name, value] pairs (already flattened: Name.N,
 * Name.N.Field). Returns the path with its query and the headers to send; the browser adds `host`
 * itself, with the value signed here.
 */
export async function signRequest({ accessKeyId, accessKeySecret }, action, version, parameters, host, now = new Date()) {
  const encoded = parameters.map(([name, value]) => [percentEncode(name), percentEncode(String(value))]);
  const query = encoded.map(([n, v]) => `${n}=${v}`).join('&');
  const canonicalQuery = [...encoded]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`).join('&');
  const payloadHash = await sha256Hex(new Uint8Array(0));
  const headers = {
    host,
    'x-acs-action': action,
    'x-acs-content-sha256': payloadHash,
    'x-acs-date': now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'x-acs-signature-nonce': nonce(),
    'x-acs-version': version,
  };
  const signed = Object.keys(headers).sort();
  const canonicalHeaders = signed.map(name => `${name}:${String(headers[name]).trim()}\n`).join('');
  const canonicalRequest = `POST\n/\n${canonicalQuery}\n${canonicalHeaders}\n${signed.join(';')}\n${payloadHash}`;
  const stringToSign = `${ALGORITHM}\n${await sha256Hex(encoder.encode(canonicalRequest))}`;
  const signature = await hmacSha256Hex(encoder.encode(accessKeySecret), encoder.encode(stringToSign));
  const sent = { ...headers };
  delete sent.host;
  sent.authorization = `${ALGORITHM} Credential=${accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signature}`;
  sent.accept = 'application/json';
  return { path: query ? `/?${query}` : '/', headers: sent };
}
